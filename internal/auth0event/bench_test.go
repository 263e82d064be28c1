package auth0event

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// benchBatch is a log stream batch of 100 records, as Auth0 might post.
var benchBatch = func() []byte {
	var events []auth0test.Event
	for i := range 100 {
		events = append(events, auth0test.Event{LogID: fmt.Sprintf("9002026112008%037d", i), UserID: fmt.Sprintf("auth0|u%d", i), LoginsCount: i + 1})
	}
	return auth0test.Lines(events...)
}()

// BenchmarkWalkLogStream parses a 100-record batch into pdata maps.
func BenchmarkWalkLogStream(b *testing.B) {
	b.SetBytes(int64(len(benchBatch)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_, _, err := WalkLogStream(benchBatch, DefaultLimits, func(pcommon.Map) { n++ })
		if err != nil || n != 100 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkWalkAndMap is the receiver's whole decoding of a batch: parse,
// header, and mapping onto log records with their attributes.
func BenchmarkWalkAndMap(b *testing.B) {
	b.SetBytes(int64(len(benchBatch)))
	b.ReportAllocs()
	for b.Loop() {
		logs := plog.NewLogs()
		records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		_, _, err := WalkLogStream(benchBatch, DefaultLimits, func(rec pcommon.Map) {
			MapLogEvent(rec, LogEventHeader(rec), SourceLogStream, observed, records.AppendEmpty())
		})
		if err != nil || records.Len() != 100 {
			b.Fatal(err)
		}
	}
}
