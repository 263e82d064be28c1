// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// All three content formats of a custom webhook log stream decode to the same
// records; the golden file pins every attribute, timestamp and body.
func TestLogStreamFormats(t *testing.T) {
	lines, rejected := walkToLogs(t, readTestdata(t, "logstream.jsonl"), SourceLogStream)
	require.Empty(t, rejected)
	compareGolden(t, "logstream_expected.yaml", lines)

	array, rejected := walkToLogs(t, readTestdata(t, "logstream_array.json"), SourceLogStream)
	require.Empty(t, rejected)
	require.NoError(t, plogtest.CompareLogs(lines, array))

	object, rejected := walkToLogs(t, readTestdata(t, "logstream_object.json"), SourceLogStream)
	require.Empty(t, rejected)
	require.Equal(t, 1, object.LogRecordCount())
	want := plog.NewLogs()
	lines.ResourceLogs().At(0).CopyTo(want.ResourceLogs().AppendEmpty())
	records := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	keep := records.At(1)
	records.RemoveIf(func(lr plog.LogRecord) bool {
		return lr.Attributes().AsRaw()[AttrLogID] != keep.Attributes().AsRaw()[AttrLogID]
	})
	require.NoError(t, plogtest.CompareLogs(want, object))
}

func TestWalkLogStreamRejects(t *testing.T) {
	good := `{"log_id":"a","data":{"type":"s"}}`
	tests := []struct {
		name     string
		body     string
		accepted []string
		errors   []RecordError
	}{
		{
			name:     "truncated line between valid lines",
			body:     good + "\n" + `{"log_id":"b","data":{"type":"s"` + "\n" + strings.Replace(good, `"a"`, `"c"`, 1) + "\n",
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 3, Offset: 68, Msg: "invalid JSON: expecting ',' or '}' in object, found '{'"}},
		},
		{
			name:     "garbage line",
			body:     good + "\nnot json at all\n" + strings.Replace(good, `"a"`, `"c"`, 1),
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 2, Offset: 35, Msg: `invalid JSON: invalid literal, expecting "null"`}},
		},
		{
			name:     "record of the wrong type",
			body:     good + "\n42\n\"str\"\n" + strings.Replace(good, `"a"`, `"c"`, 1),
			accepted: []string{"a", "c"},
			errors: []RecordError{
				{Record: 2, Line: 2, Offset: 35, Msg: "record is a JSON number, not an object"},
				{Record: 3, Line: 3, Offset: 38, Msg: "record is a JSON string, not an object"},
			},
		},
		{
			name:     "data is not an object",
			body:     `[` + good + `,{"log_id":"x","data":"oops"},` + strings.Replace(good, `"a"`, `"c"`, 1) + `]`,
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 1, Offset: 36, Msg: `field "data" is a string, not an object`}},
		},
		{
			name:     "truncated array keeps what came before",
			body:     `[` + good + `,` + strings.Replace(good, `"a"`, `"c"`, 1) + `,{"log_id":"d","da`,
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 3, Line: 1, Offset: 88, Msg: "invalid JSON: unexpected end of input in string"}},
		},
		{
			name:     "array element that is not an object",
			body:     `[` + good + `,[1],null]`,
			accepted: []string{"a"},
			errors: []RecordError{
				{Record: 2, Line: 1, Offset: 36, Msg: "record is a JSON array, not an object"},
				{Record: 3, Line: 1, Offset: 40, Msg: "record is a JSON null, not an object"},
			},
		},
		{
			name:     "byte order mark and blank lines",
			body:     "\xEF\xBB\xBF\n\n" + good + "\n\n\r\n",
			accepted: []string{"a"},
		},
		{
			name:     "pretty printed single object",
			body:     "{\n  \"log_id\": \"a\",\n  \"data\": {\"type\": \"s\"}\n}\n",
			accepted: []string{"a"},
		},
		{
			name:     "too deep",
			body:     `{"log_id":"x","data":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 71) + "\n" + good,
			accepted: []string{"a"},
			errors:   []RecordError{{Record: 1, Line: 1, Offset: 336, Msg: "record is beyond the receiver's limits: nesting deeper than 64 levels"}},
		},
		{
			name:     "empty array",
			body:     `[]`,
			accepted: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			_, rejected, err := WalkLogStream([]byte(tt.body), DefaultLimits, func(rec pcommon.Map) {
				ids = append(ids, LogEventHeader(rec).ID)
			})
			require.NoError(t, err)
			assert.Equal(t, tt.accepted, ids)
			assert.Equal(t, tt.errors, rejected)
		})
	}
}

// A record longer than MaxRecordBytes is refused with a clear error; the
// records around it are kept.
func TestMaxRecordBytes(t *testing.T) {
	big := `{"log_id":"big","data":{"type":"s","pad":"` + strings.Repeat("x", 300) + `"}}`
	body := `{"log_id":"a","data":{"type":"s"}}` + "\n" + big + "\n" + `{"log_id":"c","data":{"type":"s"}}`
	var ids []string
	_, rejected, err := WalkLogStream([]byte(body), Limits{MaxRecordBytes: 200}, func(rec pcommon.Map) {
		ids = append(ids, LogEventHeader(rec).ID)
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, ids)
	require.Len(t, rejected, 1)
	assert.Equal(t, fmt.Sprintf("record is %d bytes, more than max_record_size (200)", len(big)), rejected[0].Msg)
	assert.Equal(t, 2, rejected[0].Line)

	_, _, err = ParseAction(readTestdata(t, auth0test.Action), Limits{MaxRecordBytes: 100})
	assert.ErrorContains(t, err, "more than max_record_size (100)")
}

func TestWalkLogStreamEmpty(t *testing.T) {
	for _, body := range []string{"", "  \n\t ", "\xEF\xBB\xBF"} {
		_, _, err := WalkLogStream([]byte(body), DefaultLimits, func(pcommon.Map) { t.Fatal("no record expected") })
		assert.ErrorIs(t, err, ErrEmptyPayload)
	}
}
