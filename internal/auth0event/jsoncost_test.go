// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Shapes built so that every line starts a value that never closes: each
// line may cost its own bytes, not a scan of the rest of the body, and the
// valid record after them is still delivered. The scans of a body look at
// each byte a few times at most, whatever its shape.
func TestHostileShapesCostLinearTime(t *testing.T) {
	good := `{"log_id":"last","type":"s"}`
	shapes := []string{
		"[", "{", `{"a":[`, "[1,", `{"a":"x`, `"`, `{"`, "[[1],", ",", "]", "[[", `[{"a":`,
		"[" + strings.Repeat(" ", 200), strings.Repeat("[", 70), strings.Repeat("[", 70) + strings.Repeat("]", 70) + ",",
		`{"log_id":"x","type":"s","data":` + strings.Repeat("[", 80),
		strings.Repeat("[", 71) + "\n" + strings.Repeat("[", 71) + strings.Repeat("]", 71) + ",",
	}
	limits := DefaultLimits
	limits.MaxRecords = 0
	for _, shape := range shapes {
		for _, lines := range []int{2000, 8000} {
			body := []byte(strings.Repeat(shape+"\n", lines) + good + "\n")
			r := newJSONReader(body, limits.JSON)
			var ids []string
			out, err := readLogStream(r, limits, func(_ pcommon.Map, h Header) { ids = append(ids, h.ID) })
			require.NoError(t, err, shape)
			assert.Equal(t, []string{"last"}, ids, shape)
			assert.Positive(t, out.Rejected, shape)
			assert.LessOrEqual(t, r.examined, 3*len(body), "shape %q, %d lines: %d bytes examined for %d", shape, lines, r.examined, len(body))
		}
	}
}

// A record beyond a limit is stepped over in one read, however deep the
// decoder reads: the read that finds the limit also finds its end.
func TestLimitBreakingRecordsScannedOnce(t *testing.T) {
	deep := `{"log_id":"x","type":"s","v":` + strings.Repeat("[", maxDecoderDepth-10) + strings.Repeat("]", maxDecoderDepth-10) + `}`
	body := []byte("[" + goodRecord("a") + "," + deep + "," + goodRecord("b") + "]")
	r := newJSONReader(body, DefaultLimits.JSON)
	var ids []string
	out, err := readLogStream(r, DefaultLimits, func(_ pcommon.Map, h Header) { ids = append(ids, h.ID) })
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, 1, out.Rejected)
	assert.LessOrEqual(t, r.examined, len(body))
}

// A record nested deeper than the decoder reads has no end it can find: it
// is refused for its depth, and, like a record with a syntax error, the
// rest of its line is given up, once, whatever the number of its lines.
func TestBeyondDecoderDepth(t *testing.T) {
	deep := `{"log_id":"x","type":"s","v":` + strings.Repeat("[", 3*maxDecoderDepth) + strings.Repeat("]", 3*maxDecoderDepth) + `}`
	body := []byte("[" + goodRecord("a") + "," + deep + "," + goodRecord("b") + "]\n" + goodRecord("c"))
	r := newJSONReader(body, DefaultLimits.JSON)
	var ids []string
	out, err := readLogStream(r, DefaultLimits, func(_ pcommon.Map, h Header) { ids = append(ids, h.ID) })
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, ids)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, "record is beyond the receiver's limits: nesting deeper than 64 levels; the rest of the array on that line was not read", out.Errors[0].Msg)
	assert.Equal(t, len("["+goodRecord("a")+",")+len(`{"log_id":"x","type":"s","v":`)+63, out.Errors[0].Offset)
	assert.LessOrEqual(t, r.examined, len(body))

	// Stepped over as a value that is not a record, it is invalid JSON.
	r = newJSONReader([]byte(strings.Repeat("[", 3*maxDecoderDepth)+strings.Repeat("]", 3*maxDecoderDepth)), JSONLimits{})
	var se *SyntaxError
	require.ErrorAs(t, r.SkipValue(), &se)
	assert.Equal(t, "nesting deeper than 10000 levels", se.Msg)
	assert.Equal(t, maxDecoderDepth, se.Offset)
}
