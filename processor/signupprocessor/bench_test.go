// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// BenchmarkConsumeLogs is the processor on a batch of 100 log stream
// records (logins, a signup, failures, refresh exchanges) of returning
// users the store knows, no Management API: its steady state.
func BenchmarkConsumeLogs(b *testing.B) {
	var events []auth0test.Event
	types := []string{"s", "s", "s", "s", "s", "s", "fp", "sertft", "ssa", "ss"}
	for i := range 100 {
		events = append(events, auth0test.Event{LogID: fmt.Sprintf("b%d", i), Type: types[i%len(types)], UserID: fmt.Sprintf("auth0|u%d", i%40), LoginsCount: 5})
	}
	lines := auth0test.Lines(events...)

	p, err := newProcessor(metadataSettings(&testing.T{}), createDefaultConfig().(*Config), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), hostWith{}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()

	// Parsed every time rather than copied from one parse: a copy's
	// attributes lack the room the receiver leaves for the processor's.
	consumeAll(b, p, func() plog.Logs { return toLogs(b, lines) })
}

// consumeAll times ConsumeLogs on b.N batches of next, made in chunks
// outside the timer (all of them at once would be a live heap that every
// GC cycle marks), and reports beside the wall time the process's CPU time
// per batch, which other load on the machine inflates less.
func consumeAll(b *testing.B, p *signupProcessor, next func() plog.Logs) {
	const chunk = 50
	b.ReportAllocs()
	batches := make([]plog.Logs, 0, chunk)
	var cpu time.Duration
	cpuOK := true
	b.ResetTimer()
	for done := 0; done < b.N; done += len(batches) {
		b.StopTimer()
		batches = batches[:0]
		for range min(chunk, b.N-done) {
			batches = append(batches, next())
		}
		cpu0, ok0 := processCPU()
		b.StartTimer()
		for _, ld := range batches {
			if err := p.ConsumeLogs(context.Background(), ld); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu1, ok1 := processCPU()
		cpu += cpu1 - cpu0
		cpuOK = cpuOK && ok0 && ok1
	}
	if cpuOK {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkConsumeLogsStored is the processor as otelcol-config.yaml runs
// it, its store in file_storage, on the load the benchmark sends
// (internal/testsupport/loadtest): batches of 100 events of the default
// mix, a tenth of the logins and signups by new users (whose SignUps are
// claims written ahead and confirmed), the others by a thousand returning
// users, known to the store after a warm-up.
func BenchmarkConsumeLogsStored(b *testing.B) {
	const batchSize, warmUp = 100, 200
	f := filestorage.NewFactory()
	scfg := f.CreateDefaultConfig().(*filestorage.Config)
	scfg.Directory = b.TempDir()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), scfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = ext.Shutdown(context.Background()) }()
	id := component.MustNewID("file_storage")
	cfg := createDefaultConfig().(*Config)
	cfg.Storage = &id
	p, err := newProcessor(metadataSettings(&testing.T{}), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), hostWith{id: ext}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()

	gen := loadtest.NewGenerator("bench")
	r := rand.New(rand.NewPCG(1, 2))
	next := func() plog.Logs {
		return toLogs(b, gen.Next(r, batchSize, loadtest.FormatAuth0, false).Body)
	}
	for range warmUp {
		if err := p.ConsumeLogs(context.Background(), next()); err != nil {
			b.Fatal(err)
		}
	}
	consumeAll(b, p, next)
}
