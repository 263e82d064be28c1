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
	bigGzip := encode(t, codingGzip, big)
	go func() { second <- h.post("/auth0/logs", bigGzip, "Content-Encoding", codingGzip) }()
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

// TestTicket: a ticket takes memory while the budget has room, waits
// admission_timeout and gives up busy when it has not, never holds more
// than the whole budget, and gives back what it took (its slot too) when
// released, once.
func TestTicket(t *testing.T) {
	a := newAdmission(100, 1, 20*time.Millisecond)
	first := a.ticket(context.Background())
	require.NoError(t, first.reserve(60))
	require.NoError(t, first.reserve(0))
	assert.ErrorIs(t, first.reserve(41), errBeyondAdmission, "60 held and 41 more is beyond the budget of 100")

	second := a.ticket(context.Background())
	assert.ErrorIs(t, second.reserve(41), errBusy, "no room beside the first ticket")
	require.NoError(t, second.reserve(40))
	assert.Equal(t, int64(40), second.held, "a refused reservation holds nothing")

	first.giveBack(1000)
	assert.Zero(t, first.held, "giveBack returns at most what is held")
	require.NoError(t, second.reserve(60))

	require.NoError(t, first.takeSlot())
	assert.ErrorIs(t, second.takeSlot(), errBusy, "the only slot is taken")
	first.release()
	require.NoError(t, second.takeSlot())
	second.release()
	second.release()

	assert.True(t, a.memory.TryAcquire(100), "all the memory is back")
	a.memory.Release(100)
	assert.Empty(t, a.slots, "the slot is back")
}

// TestTicketFollowsTheRequest: a request that goes away stops waiting for
// admission, whatever admission_timeout allows.
func TestTicketFollowsTheRequest(t *testing.T) {
	a := newAdmission(100, 1, time.Hour)
	holder := a.ticket(context.Background())
	require.NoError(t, holder.reserve(100))
	require.NoError(t, holder.takeSlot())
	defer holder.release()

	ctx, cancel := context.WithCancel(context.Background())
	waiting := a.ticket(ctx)
	done := make(chan [2]error, 1)
	go func() { done <- [2]error{waiting.reserve(1), waiting.takeSlot()} }()
	cancel()
	select {
	case errs := <-done:
		assert.ErrorIs(t, errs[0], errBusy)
		assert.ErrorIs(t, errs[1], errBusy)
	case <-time.After(30 * time.Second):
		t.Fatal("the ticket waited for admission_timeout after its request went away")
	}
	assert.Zero(t, waiting.held)
	assert.False(t, waiting.slot)
}
