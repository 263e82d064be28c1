// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// FuzzLogStream feeds arbitrary bodies through the whole log stream path
// (walk, header, mapping). Whatever the input: no panic, every record is
// accounted for, and everything mapped is valid UTF-8 (OTLP refuses
// anything else downstream).
func FuzzLogStream(f *testing.F) {
	for _, name := range []string{auth0test.LogStreamLines, auth0test.LogStreamArray, auth0test.LogStreamObject, auth0test.LogAPIBare} {
		f.Add(auth0test.Sample(name))
	}
	f.Add([]byte("{\"log_id\":\"a\",\"data\":{\"type\":\"s\"}}\n{\"log_id\":\"b\",\"data\":{\"type\":\"s\"\n[1,{}]\n\"x\""))
	f.Add([]byte(`[{"data":null},{"data":{"details":{"stats":{"loginsCount":1.5}}}},[`))
	f.Add([]byte("\xEF\xBB\xBF{\"log_id\":\"\xff\",\"data\":{\"user_name\":\"\\ud800\"}}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		logs := plog.NewLogs()
		out := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		records, rejected, err := WalkLogStream(body, DefaultLimits, func(rec pcommon.Map) {
			MapLogEvent(rec, LogEventHeader(rec), SourceLogStream, observed, out.AppendEmpty())
		})
		if err != nil {
			var tooMany *TooManyRecordsError
			if len(bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))) != 0 && !errors.As(err, &tooMany) {
				t.Fatalf("only an empty body or one of too many records may fail as a whole, got %v", err)
			}
			return
		}
		if out.Len()+len(rejected) > records {
			t.Fatalf("%d accepted + %d rejected > %d records", out.Len(), len(rejected), records)
		}
		for _, e := range rejected {
			if e.Offset < 0 || e.Offset > len(body) || e.Line < 1 || e.Msg == "" {
				t.Fatalf("bad record error %+v for a %d byte body", e, len(body))
			}
		}
		for i := range out.Len() {
			assertUTF8(t, out.At(i).Body())
			for k, v := range out.At(i).Attributes().All() {
				if !utf8.ValidString(k) {
					t.Fatalf("invalid UTF-8 attribute key %q", k)
				}
				assertUTF8(t, v)
			}
		}
	})
}

// FuzzAction does the same for the Action endpoint's payloads.
func FuzzAction(f *testing.F) {
	f.Add(auth0test.Sample(auth0test.Action))
	f.Add([]byte(`{"schema_version":1,"event_id":"e","user":{"user_id":"u","app_metadata":[]},"stats":{"logins_count":"x"}}`))
	f.Add([]byte(`{"schema_version":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		payload, h, err := ParseAction(body, DefaultLimits)
		if err != nil {
			return
		}
		if h.ID == "" || h.Type == "" {
			t.Fatalf("accepted payload without id or type: %+v", h)
		}
		lr := plog.NewLogRecord()
		MapAction(payload, h, observed, lr)
		view := NewView(lr.Attributes(), lr.Body())
		if view.Str(AttrUserID) == "" || view.ID() != h.ID {
			t.Fatalf("mapped action lost its identity: %v", lr.Attributes().AsRaw())
		}
		view.AppMetadata()
		view.LoginsCount()
		assertUTF8(t, lr.Body())
	})
}

func assertUTF8(t *testing.T, v pcommon.Value) {
	t.Helper()
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if !utf8.ValidString(v.Str()) {
			t.Fatalf("invalid UTF-8 string %q", v.Str())
		}
	case pcommon.ValueTypeMap:
		for k, e := range v.Map().All() {
			if !utf8.ValidString(k) {
				t.Fatalf("invalid UTF-8 key %q", k)
			}
			assertUTF8(t, e)
		}
	case pcommon.ValueTypeSlice:
		for i := range v.Slice().Len() {
			assertUTF8(t, v.Slice().At(i))
		}
	}
}
