// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
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
	template := toLogs(b, auth0test.Lines(events...))

	p, err := newProcessor(metadataSettings(&testing.T{}), createDefaultConfig().(*Config), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background(), hostWith{}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()

	batches := make([]plog.Logs, b.N)
	for i := range batches {
		batches[i] = plog.NewLogs()
		template.CopyTo(batches[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := p.ConsumeLogs(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
}
