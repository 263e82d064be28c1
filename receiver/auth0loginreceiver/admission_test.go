// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

// A request that finds every decoding slot taken waits admission_timeout,
// then is refused with 503 and Retry-After: a flood cannot pile up records
// in memory.
func TestAdmission(t *testing.T) {
	next := &blockingConsumer{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	h := startReceiver(t, next, func(c *Config) {
		c.MaxConcurrentRequests = 1
		c.AdmissionTimeout = 100 * time.Millisecond
	})
	first := make(chan reply, 1)
	go func() { first <- h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject)) }()
	<-next.entered

	start := time.Now()
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Contains(t, r.body["error"], "the collector is busy with other requests")
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)

	close(next.release)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines)).status, "the slot is free again")
	metadatatest.AssertEqualReceiverAuth0loginRequestsRejected(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs"), attribute.String("reason", "busy")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

type blockingConsumer struct {
	release chan struct{}
	entered chan struct{}
}

func (c *blockingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *blockingConsumer) ConsumeLogs(context.Context, plog.Logs) error {
	select {
	case c.entered <- struct{}{}:
	default:
	}
	<-c.release
	return nil
}

// TestAdmissionCountsMemory: a request waits for the memory its body and
// records may take, not only for a slot: with one large request holding
// the budget, another that does not fit beside it is answered 503 with
// Retry-After once admission_timeout passed, though slots are free; a
// small one that fits goes through.
func TestAdmissionCountsMemory(t *testing.T) {
	next := &blockingConsumer{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	h := startReceiver(t, next, func(c *Config) {
		c.ServerConfig.MaxRequestBodySize = 256 << 10
		c.MaxRequestRecords = 1000
		c.AdmissionMemoryMiB = 9
		c.MaxConcurrentRequests = 64
		c.AdmissionTimeout = 200 * time.Millisecond
	})
	var events []auth0test.Event
	for i := range 200 {
		events = append(events, auth0test.Event{LogID: fmt.Sprintf("big-%d", i)})
	}
	big := auth0test.Lines(events...) // about 200 KB: 200 KB x 27 + 1000 records x 1.5 KiB, over half the budget
	require.Greater(t, maxRequestCost(int64(len(big)), 1000), int64(9<<20)/2)

	first := make(chan reply, 1)
	go func() { first <- h.post("/auth0/logs", big) }()
	<-next.entered

	second := make(chan reply, 1)
	go func() { second <- h.post("/auth0/logs", encode(t, codingGzip, big), "Content-Encoding", codingGzip) }()
	select {
	case r := <-second:
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "5", r.header.Get("Retry-After"))
		assert.Contains(t, r.body["error"], "busy")
	case <-time.After(10 * time.Second):
		t.Error("the second request was admitted beside the first, beyond the memory budget")
	}

	close(next.release)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", big).status, "room again once the first request was answered")
	assertAdmissionFree(t, h)
}
