// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSenderAndSink(t *testing.T) {
	sink := NewSink()
	srv := httptest.NewServer(sink)
	defer srv.Close()
	g := NewGenerator("t2")
	s := NewSender(srv.URL, "")
	s.Acked = NewIDSet()

	stats := s.Run(context.Background(), Load{Generator: g, BatchSize: 10, Format: FormatHEC, Gzip: true, Concurrency: 2, Duration: 200 * time.Millisecond})
	assert.Positive(t, stats.AcceptedEvents)
	assert.Equal(t, stats.AcceptedEvents, sink.Events())
	lost, dupes, unique := sink.Check(s.Acked)
	assert.Empty(t, lost)
	assert.Zero(t, dupes)
	assert.Equal(t, int(stats.AcceptedEvents), unique)
	assert.Positive(t, stats.Percentile(99))

	sink.SetFault(&Fault{Status: http.StatusServiceUnavailable, RetryAfter: 3})
	r := s.Send(context.Background(), g.Next(rand.New(rand.NewPCG(2, 2)), 1, FormatHEC, false))
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	sink.SetFault(nil)

	// A paced load never sends ahead of its rate (how close it comes to
	// the rate depends on the machine, which a benchmark measures).
	rate := s.Run(context.Background(), Load{Generator: g, BatchSize: 10, Format: FormatHEC, EventsPerSecond: 500, Duration: time.Second})
	assert.Positive(t, rate.AcceptedEvents)
	assert.LessOrEqual(t, rate.AcceptedEvents, int64(500+10), "no more than a second's worth at 500 events/s, give or take one batch")
}
