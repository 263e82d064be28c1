package pjson

import (
	"encoding/json"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

var benchRecord = auth0test.Event{LogID: "90020261120081325118000000000000000000000000000002", LoginsCount: 3}.JSON()

// BenchmarkParse is this parser on one ~1 KB Auth0 record; the
// EncodingJSONFromRaw baseline, in the same run, is what it replaces:
// encoding/json into map[string]any, then pcommon.Map.FromRaw.
func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	b.ReportAllocs()
	for b.Loop() {
		m := pcommon.NewMap()
		if err := NewParser(benchRecord, Limits{}).ParseObject(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSONFromRaw(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	b.ReportAllocs()
	for b.Loop() {
		var raw map[string]any
		if err := json.Unmarshal(benchRecord, &raw); err != nil {
			b.Fatal(err)
		}
		if err := pcommon.NewMap().FromRaw(raw); err != nil {
			b.Fatal(err)
		}
	}
}
