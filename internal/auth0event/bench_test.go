// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

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

var benchRecord = auth0test.Event{LogID: "90020261120081325118000000000000000000000000000002", LoginsCount: 3}.JSON()

// BenchmarkReadRecord is the JSON reader on one ~1 KB Auth0 record; the
// EncodingJSONFromRaw baseline, in the same run, is the generic way:
// encoding/json into map[string]any, then pcommon.Map.FromRaw.
func BenchmarkReadRecord(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		r := newJSONReader(benchRecord, JSONLimits{})
		if err := r.ParseObject(pcommon.NewMap()); err != nil {
			b.Fatal(err)
		}
		r.release()
	}
}

func BenchmarkEncodingJSONFromRaw(b *testing.B) {
	b.SetBytes(int64(len(benchRecord)))
	b.ReportAllocs()
	defer reportCPU(b)()
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

// BenchmarkWalkLogStream parses a 100-record batch into pdata maps.
func BenchmarkWalkLogStream(b *testing.B) {
	b.SetBytes(int64(len(benchBatch)))
	b.ReportAllocs()
	defer reportCPU(b)()
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
	defer reportCPU(b)()
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

// BenchmarkParseAction is one post-login Action payload, parsed and validated.
func BenchmarkParseAction(b *testing.B) {
	body := auth0test.Sample(auth0test.Action)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, _, err := ParseAction(body, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkTinyRecords is the per-record cost: 10,000 of the smallest
// records accepted, one a line, the shape of a flood of tiny records.
func BenchmarkWalkTinyRecords(b *testing.B) {
	body := bytes.Repeat([]byte(`{"log_id":"1","type":"s"}`+"\n"), 10000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		n := 0
		if _, _, err := WalkLogStream(body, DefaultLimits, func(pcommon.Map) { n++ }); err != nil || n != 10000 {
			b.Fatal(err, n)
		}
	}
}

// reportCPU reports the process's CPU time (user and system, GC workers
// included) per operation beside the wall time: on a shared machine it
// moves less with the other load than ns/op does.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
