// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensionauth/extensionauthtest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

var queueID = component.MustNewID("journal_storage")

// fakeQueue is a storage extension that counts the items it is told to.
type fakeQueue struct {
	component.StartFunc
	component.ShutdownFunc
	items atomic.Int64
}

func (q *fakeQueue) QueuedItems() int { return int(q.items.Load()) }

func withDrain(timeout time.Duration) option {
	return func(c *Config) {
		id := queueID
		c.Drain = DrainConfig{Storage: &id, Timeout: timeout}
	}
}

// startDraining runs a receiver whose drain asks queue, and returns it
// with the channel its Shutdown's result arrives on once called.
func startDraining(t *testing.T, next consumer.Logs, queue *fakeQueue, opts ...option) (*harness, func(ctx context.Context) <-chan error) {
	t.Helper()
	h := startReceiverWithHost(t, next, hostWithExtensions{queueID: queue}, opts...)
	shutdown := func(ctx context.Context) <-chan error {
		done := make(chan error, 1)
		go func() { done <- h.rcv.Shutdown(ctx) }()
		return done
	}
	return h, shutdown
}

// waitRefusing waits until the receiver answers 503 as it does once
// shutdown began, and returns that answer. It asks with a GET, which
// delivers nothing before (405).
func (h *harness) waitRefusing() reply {
	h.t.Helper()
	var r reply
	require.Eventually(h.t, func() bool {
		r = h.do(http.MethodGet, "/auth0/logs", nil)
		return r.status == http.StatusServiceUnavailable
	}, 5*time.Second, 5*time.Millisecond)
	return r
}

func (h *harness) logged(msg string) bool {
	return h.logs.FilterMessageSnippet(msg).Len() > 0
}

func requireNotDone(t *testing.T, done <-chan error, d time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while it should wait", err)
	case <-time.After(d):
	}
}

func requireDone(t *testing.T, done <-chan error, within time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(within):
		t.Fatalf("Shutdown did not return within %s", within)
	}
}

// TestDrainWaitsForTheQueue: once shutdown began, requests are answered
// 503 with Retry-After and why; Shutdown returns once the queue is empty.
func TestDrainWaitsForTheQueue(t *testing.T) {
	queue := &fakeQueue{}
	queue.items.Store(3)
	sink := new(consumertest.LogsSink)
	h, shutdown := startDraining(t, sink, queue, withDrain(time.Minute))
	require.Equal(t, http.StatusOK, h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines)).status)

	done := shutdown(context.Background())
	r := h.waitRefusing()
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Contains(t, r.body["error"], "the collector is shutting down")
	assert.Equal(t, http.StatusServiceUnavailable, h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject)).status)
	req, err := http.NewRequest(http.MethodPost, h.base+"/auth0/logs", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", testSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.True(t, resp.Close, "the retry comes over a new connection (Connection: close)")
	assert.Equal(t, http.StatusServiceUnavailable, h.post("/auth0/actions", auth0test.Sample(auth0test.Action)).status)
	assert.Equal(t, http.StatusUnauthorized, h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject), "Authorization", "wrong").status,
		"a stranger learns nothing more than before")
	requireNotDone(t, done, 300*time.Millisecond)

	// A second Shutdown meanwhile waits for the first one, then finds
	// nothing left to stop.
	again := shutdown(context.Background())
	queue.items.Store(1)
	requireNotDone(t, done, 200*time.Millisecond)
	requireNotDone(t, again, 0)
	queue.items.Store(0)
	requireDone(t, done, 2*time.Second)
	requireDone(t, again, 2*time.Second)
	assert.Equal(t, 5, sink.LogRecordCount(), "only what came before the drain")

	started := h.logs.FilterMessageSnippet("waiting for the persistent queue").All()
	require.Len(t, started, 1, "one drain")
	assert.Equal(t, int64(3), started[0].ContextMap()["items"])
	assert.Equal(t, time.Minute, started[0].ContextMap()["timeout"])
	assert.True(t, h.logged("The persistent queue is drained"))
	metadatatest.AssertEqualReceiverAuth0loginDrainItems(t, h.tel, []metricdata.DataPoint[int64]{{Value: 0}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// A second Shutdown finds nothing to wait for.
	queue.items.Store(7)
	start := time.Now()
	require.NoError(t, h.rcv.Shutdown(context.Background()))
	assert.Less(t, time.Since(start), time.Second)
}

// TestDrainTimesOut: a queue that does not drain (Splunk down, or an
// exporter retrying forever) holds shutdown for drain.timeout, then the
// items left are logged as staying on disk.
func TestDrainTimesOut(t *testing.T) {
	queue := &fakeQueue{}
	queue.items.Store(4)
	h, shutdown := startDraining(t, consumertest.NewNop(), queue, withDrain(400*time.Millisecond))
	start := time.Now()
	requireDone(t, shutdown(context.Background()), 5*time.Second)
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)

	warned := h.logs.FilterMessageSnippet("did not drain within drain.timeout").All()
	require.Len(t, warned, 1)
	assert.Equal(t, zapcore.WarnLevel, warned[0].Level)
	assert.Equal(t, int64(4), warned[0].ContextMap()["items_left"])
	assert.Contains(t, warned[0].Message, "stay on this node's disk")
	metadatatest.AssertEqualReceiverAuth0loginDrainItems(t, h.tel, []metricdata.DataPoint[int64]{{Value: 4}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestDrainEndsWithShutdownsContext: the collector's own deadline wins
// over drain.timeout.
func TestDrainEndsWithShutdownsContext(t *testing.T) {
	queue := &fakeQueue{}
	queue.items.Store(2)
	h, shutdown := startDraining(t, consumertest.NewNop(), queue, withDrain(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := shutdown(ctx)
	select {
	case err := <-done:
		assert.NoError(t, err, "a drain cut short is logged, not returned")
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not end with its context")
	}
	warned := h.logs.FilterMessageSnippet("Shutdown was cut short").All()
	require.Len(t, warned, 1)
	assert.Equal(t, int64(2), warned[0].ContextMap()["items_left"])
}

// TestDrainOff: a timeout of 0, or no storage named, does not wait,
// although new requests are still refused during the shutdown.
func TestDrainOff(t *testing.T) {
	queue := &fakeQueue{}
	queue.items.Store(9)
	h, shutdown := startDraining(t, consumertest.NewNop(), queue, withDrain(0))
	requireDone(t, shutdown(context.Background()), time.Second)
	assert.False(t, h.logged("persistent queue"))

	h = startReceiver(t, consumertest.NewNop())
	start := time.Now()
	require.NoError(t, h.rcv.Shutdown(context.Background()))
	assert.Less(t, time.Since(start), time.Second)
}

// TestDrainStorageMustCount: drain.storage must name a configured
// extension that counts its queue, or Start says what is wrong.
func TestDrainStorageMustCount(t *testing.T) {
	for name, host := range map[string]component.Host{
		"missing":    componenttest.NewNopHost(),
		"wrong kind": hostWithExtensions{queueID: extensionauthtest.NewNopServer()},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
			cfg.Secret = testSecret
			withDrain(time.Second)(cfg)
			rcv, err := newReceiver(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
			require.NoError(t, err)
			err = rcv.Start(context.Background(), host)
			if name == "missing" {
				assert.ErrorContains(t, err, `"drain.storage": extension "journal_storage" is not configured`)
			} else {
				assert.ErrorContains(t, err, `"drain.storage": extension "journal_storage" cannot count the items of the persistent queue`)
			}
			assert.Empty(t, rcv.addr, "nothing listens")
			require.NoError(t, rcv.Shutdown(context.Background()))
		})
	}
}

func TestDrainConfigValidate(t *testing.T) {
	assert.NoError(t, (&DrainConfig{}).Validate())
	assert.ErrorContains(t, (&DrainConfig{Timeout: -time.Second}).Validate(), `"drain.timeout" must not be negative`)
	assert.Equal(t, DrainConfig{Timeout: 25 * time.Second}, createDefaultConfig().(*Config).Drain)
}

// queueingConsumer stands for the pipeline up to the persistent queue: it
// holds each request until released, then queues it as one item.
type queueingConsumer struct {
	queue   *fakeQueue
	entered chan struct{}
	release chan struct{}
}

func (c *queueingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *queueingConsumer) ConsumeLogs(context.Context, plog.Logs) error {
	c.entered <- struct{}{}
	<-c.release
	c.queue.items.Add(1)
	return nil
}

// TestDrainLetsARequestInFlightFinish: a request being delivered when
// shutdown begins is answered as usual, and the drain waits for its items
// too, although the queue was empty when shutdown began.
func TestDrainLetsARequestInFlightFinish(t *testing.T) {
	queue := &fakeQueue{}
	next := &queueingConsumer{queue: queue, entered: make(chan struct{}, 1), release: make(chan struct{})}
	h, shutdown := startDraining(t, next, queue, withDrain(time.Minute))
	inFlight := make(chan reply, 1)
	go func() { inFlight <- h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines)) }()
	<-next.entered

	done := shutdown(context.Background())
	h.waitRefusing()
	requireNotDone(t, done, 200*time.Millisecond)
	close(next.release)
	r := <-inFlight
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, summaryOf(5, 0, 0, 0), r.body)
	requireNotDone(t, done, 300*time.Millisecond)
	assert.Equal(t, int64(1), h.logs.FilterMessageSnippet("waiting for the persistent queue").All()[0].ContextMap()["items"])

	queue.items.Store(0)
	requireDone(t, done, 2*time.Second)
}

// TestDrainStopsPollingFirst: in pull mode no page is read once shutdown
// began, while the drain waits.
func TestDrainStopsPollingFirst(t *testing.T) {
	env := newPollEnv(t)
	env.addLogs(1, 3)
	queue := &fakeQueue{}
	queue.items.Store(1)
	sink := new(consumertest.LogsSink)
	host := env.host()
	host[queueID] = queue
	h := startReceiverWithHost(t, sink, host, env.pollOnly, withDrain(time.Minute))
	waitRecords(t, sink, 3)

	done := make(chan error, 1)
	go func() { done <- h.rcv.Shutdown(context.Background()) }()
	require.Eventually(t, func() bool { return h.logged("waiting for the persistent queue") }, 5*time.Second, 5*time.Millisecond)
	reads := len(env.fake.Requests(http.MethodGet, "/api/v2/logs"))
	env.addLogs(4, 2)
	requireNotDone(t, done, 1500*time.Millisecond) // longer than poll.interval
	assert.Len(t, env.fake.Requests(http.MethodGet, "/api/v2/logs"), reads, "no read while draining")
	assert.Equal(t, 3, sink.LogRecordCount())

	queue.items.Store(0)
	requireDone(t, done, 2*time.Second)
}

// TestStartAgainAfterDrain: a receiver started again after a shutdown
// takes requests again.
func TestStartAgainAfterDrain(t *testing.T) {
	queue := &fakeQueue{}
	sink := new(consumertest.LogsSink)
	h, shutdown := startDraining(t, sink, queue, withDrain(time.Minute))
	requireDone(t, shutdown(context.Background()), 2*time.Second)
	require.NoError(t, h.rcv.Start(context.Background(), hostWithExtensions{queueID: queue}))
	h.base = "http://" + h.rcv.addr
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, 5, sink.LogRecordCount())
}
