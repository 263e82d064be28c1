// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"bytes"
	"fmt"
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

// A record beyond a limit is stepped over in one scan, however deep: the
// scan that finds the limit also finds its end.
func TestLimitBreakingRecordsScannedOnce(t *testing.T) {
	deep := `{"log_id":"x","type":"s","v":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	body := []byte("[" + goodRecord("a") + "," + deep + "," + goodRecord("b") + "]")
	r := newJSONReader(body, DefaultLimits.JSON)
	var ids []string
	out, err := readLogStream(r, DefaultLimits, func(_ pcommon.Map, h Header) { ids = append(ids, h.ID) })
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids)
	assert.Equal(t, 1, out.Rejected)
	assert.LessOrEqual(t, r.examined, len(body))
}

// The fastjson tree of one record is bounded: a record of many tiny values
// is decoded from tokens, to the same pdata.
func TestManyValuesTakeTheTokenDecoder(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"log_id":"m","type":"s","v":[`)
	for i := range 3 * maxTreeValues {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", i%10)
	}
	b.WriteString(`]}`)
	r := newJSONReader(b.Bytes(), JSONLimits{})
	v, err := r.ScanObject()
	require.NoError(t, err)
	assert.Greater(t, v.values, maxTreeValues)
	got := pcommon.NewMap()
	require.NoError(t, r.Build(got, v))
	s, _ := got.Get("v")
	assert.Equal(t, 3*maxTreeValues, s.Slice().Len())
}
