// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func goodRecord(id string) string {
	return `{"log_id":"` + id + `","data":{"type":"s","user_id":"auth0|` + id + `"}}`
}

func deepRecord(id string) string {
	return `{"log_id":"` + id + `","data":` + strings.Repeat(`{"a":[`, 40) + `1` + strings.Repeat(`]}`, 40) + `}`
}

func manyKeysRecord(id string) string {
	var b strings.Builder
	b.WriteString(`{"log_id":"` + id + `","data":{"type":"s"`)
	for i := range 600 {
		fmt.Fprintf(&b, `,"k%d":%d`, i, i)
	}
	b.WriteString(`}}`)
	return b.String()
}

func readIDs(t *testing.T, body string, limits Limits) ([]string, Outcome) {
	t.Helper()
	var ids []string
	out, err := ReadLogStream([]byte(body), limits, func(rec pcommon.Map, h Header) {
		assert.Equal(t, LogEventHeader(rec), h)
		ids = append(ids, h.ID)
	})
	require.NoError(t, err)
	return ids, out
}

// A record beyond a parser limit is well-formed JSON: it costs only
// itself, in a single-line array as in JSON lines, and its error says what
// it broke (not "invalid JSON").
func TestLimitBreakingRecordCostsOnlyItself(t *testing.T) {
	for name, bad := range map[string]string{"nesting": deepRecord("x"), "keys": manyKeysRecord("x")} {
		msg := map[string]string{"nesting": "nesting deeper than 64 levels", "keys": "object has more than 512 keys"}[name]
		for _, format := range []string{"array", "lines", "concatenated"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				records := []string{goodRecord("a"), bad, goodRecord("c"), goodRecord("d")}
				var body string
				switch format {
				case "array":
					body = "[" + strings.Join(records, ",") + "]"
				case "lines":
					body = strings.Join(records, "\n")
				default:
					body = strings.Join(records, " ")
				}
				ids, out := readIDs(t, body, DefaultLimits)
				assert.Equal(t, []string{"a", "c", "d"}, ids)
				assert.Equal(t, 4, out.Records)
				assert.Equal(t, 1, out.Rejected)
				require.Len(t, out.Errors, 1)
				assert.Equal(t, 2, out.Errors[0].Record)
				assert.Equal(t, "record is beyond the receiver's limits: "+msg, out.Errors[0].Msg)
			})
		}
	}
}

// An array element with a syntax error has no trustworthy end: the rest of
// its line is given up, and the error says so rather than letting the
// elements after it vanish unmentioned.
func TestSyntaxErrorInSingleLineArraySaysWhatWasNotRead(t *testing.T) {
	body := "[" + goodRecord("a") + `,{"log_id":"b","data":{"type":tru}},` + goodRecord("c") + "]\n" + goodRecord("d")
	ids, out := readIDs(t, body, DefaultLimits)
	assert.Equal(t, []string{"a", "d"}, ids)
	require.Len(t, out.Errors, 1)
	assert.Contains(t, out.Errors[0].Msg, "invalid JSON")
	assert.Contains(t, out.Errors[0].Msg, "the rest of the array on that line was not read")

	// Broken at its very end, nothing else was lost: no such note.
	_, out = readIDs(t, "["+goodRecord("a")+`,{"log_id":"b"`, DefaultLimits)
	require.Len(t, out.Errors, 1)
	assert.NotContains(t, out.Errors[0].Msg, "not read")
}

func TestRecordsNeedLogIDAndType(t *testing.T) {
	tests := []struct {
		record string
		msg    string // empty: accepted
	}{
		{`{}`, `record has no "log_id"`},
		{`{"data":{"type":"s"}}`, `record has no "log_id"`},
		{`{"log_id":"","data":{"type":"s"}}`, `record has no "log_id"`},
		{`{"log_id":5,"data":{"type":"s"}}`, `record has no "log_id"`},
		{`{"log_id":"a","data":{}}`, `record has no "type"`},
		{`{"log_id":"a","data":{"type":null}}`, `record has no "type"`},
		{`{"log_id":"a","data":{"type":""}}`, `record has no "type"`},
		{`{"log_id":"a","type":"s","data":{}}`, `record has no "type"`},
		{`{"log_id":"a","data":{"type":"s"}}`, ""},
		{`{"data":{"log_id":"a","type":"s"}}`, ""},
		{`{"log_id":"a","type":"s"}`, ""},
		{`{"_id":"a","type":"s"}`, ""},
		// A known field of the wrong JSON type is kept, without its
		// attribute (documented): a type is there.
		{`{"log_id":"a","data":{"type":["s"]}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.record, func(t *testing.T) {
			body := goodRecord("before") + "\n" + tt.record + "\n" + goodRecord("after")
			ids, out := readIDs(t, body, DefaultLimits)
			if tt.msg == "" {
				assert.Len(t, ids, 3)
				assert.Zero(t, out.Rejected)
				return
			}
			assert.Equal(t, []string{"before", "after"}, ids)
			require.Len(t, out.Errors, 1)
			assert.Contains(t, out.Errors[0].Msg, tt.msg)
			assert.Equal(t, 2, out.Errors[0].Line)
		})
	}
}

func TestMaxRecords(t *testing.T) {
	limits := DefaultLimits
	limits.MaxRecords = 5
	five := strings.Repeat(goodRecord("a")+"\n", 5)
	_, out := readIDs(t, five, limits)
	assert.Equal(t, 5, out.Records)

	for _, body := range []string{
		five + goodRecord("b"),
		"[" + strings.Repeat(goodRecord("a")+",", 5) + goodRecord("b") + "]",
		strings.Repeat("{}\n", 6),
		strings.Repeat("1 ", 6),
		"[" + strings.Repeat("[],", 5) + "[]]",
	} {
		called := 0
		out, err := ReadLogStream([]byte(body), limits, func(pcommon.Map, Header) { called++ })
		var tooMany *TooManyRecordsError
		require.ErrorAs(t, err, &tooMany, body)
		assert.Equal(t, 5, tooMany.Max)
		assert.Equal(t, "the request holds more than 5 records", err.Error())
		assert.LessOrEqual(t, called, 5)
		assert.Equal(t, 5, out.Records)
	}
}

// A body of broken records costs a counter, not a list: the errors listed
// are the first MaxListedErrors, the count covers them all.
func TestRejectedAreCountedNotListed(t *testing.T) {
	body := strings.Repeat("{}\n", 5000) + strings.Repeat("not json\n", 5000) + goodRecord("z")
	limits := DefaultLimits
	limits.MaxRecords = 0
	ids, out := readIDs(t, body, limits)
	assert.Equal(t, []string{"z"}, ids)
	assert.Equal(t, 10001, out.Records)
	assert.Equal(t, 10000, out.Rejected)
	require.Len(t, out.Errors, MaxListedErrors)
	assert.Equal(t, 1, out.Errors[0].Record)
	assert.Equal(t, MaxListedErrors, out.Errors[MaxListedErrors-1].Line)
}

// TestGeneratedPayloadsLoseNoNeighbour generates payloads in every format,
// mixing valid records with well-formed bad ones (beyond a limit, too big,
// not an object, missing a field) and, in JSON lines, lines that are not
// JSON: every valid record is delivered, in order, and every bad one is
// counted, whatever their order.
func TestGeneratedPayloadsLoseNoNeighbour(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	limits := DefaultLimits
	limits.MaxRecordBytes = 4096
	wellFormedBad := []func(id string) string{
		deepRecord,
		manyKeysRecord,
		func(id string) string {
			return `{"log_id":"` + id + `","data":{"type":"s","pad":"` + strings.Repeat("x", 5000) + `"}}`
		},
		func(string) string { return `{}` },
		func(string) string { return `{"data":{"type":"s"}}` },
		func(id string) string { return `{"log_id":"` + id + `","data":{}}` },
		func(string) string { return `[[[` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `]]]` },
		func(string) string { return `"a string"` },
		func(string) string { return `-12.5e3` },
		func(string) string { return `null` },
		func(id string) string { return `{"log_id":"` + id + `","data":"oops"}` },
	}
	notJSON := []string{`{"log_id":"q","data":{"type":tru}}`, `{"log_id":`, `not json`, `]`, `{"a" 1}`}
	for n := range 300 {
		format := []string{"array", "lines", "concatenated", "pretty-array"}[rng.IntN(4)]
		var parts, want []string
		bad := 0
		for i := range 1 + rng.IntN(12) {
			id := fmt.Sprintf("r%d-%d", n, i)
			switch k := rng.IntN(10); {
			case k < 5:
				parts = append(parts, goodRecord(id))
				want = append(want, id)
			case k < 9 || format != "lines":
				parts = append(parts, wellFormedBad[rng.IntN(len(wellFormedBad))](id))
				bad++
			default:
				parts = append(parts, notJSON[rng.IntN(len(notJSON))])
				bad++
			}
		}
		var body string
		switch format {
		case "array":
			body = "[" + strings.Join(parts, ",") + "]"
		case "pretty-array":
			body = "[\n  " + strings.Join(parts, ",\n  ") + "\n]\n"
		case "lines":
			body = strings.Join(parts, "\n")
		default:
			body = strings.Join(parts, " ")
		}
		ids, out := readIDs(t, body, limits)
		require.Equal(t, want, ids, "seed %d, payload %d (%s):\n%s", seed, n, format, body)
		require.Equal(t, bad, out.Rejected, "seed %d, payload %d (%s): %+v\n%s", seed, n, format, out.Errors, body)
		for _, e := range out.Errors {
			if format != "lines" {
				require.NotContains(t, e.Msg, "invalid JSON", "well-formed values are not syntax errors: seed %d\n%s", seed, body)
			}
		}
	}
}

func TestActionLimitError(t *testing.T) {
	deep := `{"schema_version":1,"event_id":"e","user":{"user_id":"u"},"x":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`
	_, _, err := ParseAction([]byte(deep), DefaultLimits)
	var ae *ActionError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid Action payload: payload is beyond the receiver's limits: nesting deeper than 64 levels at byte offset 125", err.Error())
}
