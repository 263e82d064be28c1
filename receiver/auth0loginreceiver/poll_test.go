// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

var pollTenants atomic.Int64

// pollEnv is a tenant (the fake Management API) and the storage that keeps
// the poller's checkpoint across receivers.
type pollEnv struct {
	t       *testing.T
	fake    *fakeauth0.Server
	url     string
	domain  string
	storage component.Component
}

func newPollEnv(t *testing.T) *pollEnv {
	t.Helper()
	domain := "poll" + strconv.FormatInt(pollTenants.Add(1), 10) + ".eu.auth0.com"
	fake := fakeauth0.New("poll-client", "poll-secret", "https://"+domain+"/api/v2/")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	f := filestorage.NewFactory()
	scfg := f.CreateDefaultConfig().(*filestorage.Config)
	scfg.Directory = t.TempDir()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), scfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return &pollEnv{t: t, fake: fake, url: srv.URL, domain: domain, storage: ext}
}

// addLogs adds n log events with increasing ids, starting at first.
func (e *pollEnv) addLogs(first, n int) []string {
	var ids []string
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("900202611200813%041d", i)
		e.fake.AddLogs(auth0test.Event{LogID: id, LoginsCount: 2}.Data())
		ids = append(ids, id)
	}
	return ids
}

// pollOnly configures pull mode alone (no HTTP endpoints).
func (e *pollEnv) pollOnly(c *Config) {
	c.ServerConfig.NetAddr.Endpoint = ""
	c.Secret = ""
	c.Poll.Enabled = true
	c.Poll.ManagementAPI.Domain = e.domain
	c.Poll.ManagementAPI.ClientID = "poll-client"
	c.Poll.ManagementAPI.ClientSecret = "poll-secret"
	c.Poll.ManagementAPI.ClientConfig.Endpoint = e.url
	c.Poll.Interval = time.Second
	c.Poll.Start = "oldest"
	id := component.MustNewID("file_storage")
	c.Poll.Storage = &id
}

func (e *pollEnv) host() hostWithExtensions {
	return hostWithExtensions{component.MustNewID("file_storage"): e.storage}
}

func (e *pollEnv) start(sink *consumertest.LogsSink, opts ...option) *harness {
	return startReceiverWithHost(e.t, sink, e.host(), append([]option{e.pollOnly}, opts...)...)
}

func waitRecords(t *testing.T, sink *consumertest.LogsSink, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= n }, 15*time.Second, 20*time.Millisecond,
		"%d records, want %d", sink.LogRecordCount(), n)
}

// The poller alone: the real go-auth0 client against the fake tenant, the
// real file storage for the checkpoint, and a deliver function in place of
// the receiver. Its waits are recorded instead of slept.
type pollerRig struct {
	*pollEnv
	p      *poller
	tel    *componenttest.Telemetry
	logs   *observer.ObservedLogs
	store  storage.Client
	waits  []time.Duration
	pages  [][]string // the log ids of each page handed to deliver
	refuse []error    // what deliver answers, in turn, before it accepts
}

func newPollerRig(t *testing.T, mutate func(*PollConfig)) *pollerRig {
	t.Helper()
	rig := &pollerRig{pollEnv: newPollEnv(t)}
	cfg := createDefaultConfig().(*Config)
	rig.pollOnly(cfg)
	cfg.Poll.PageSize = 10
	if mutate != nil {
		mutate(&cfg.Poll)
	}
	api, err := mgmtapi.New(context.Background(), cfg.Poll.ManagementAPI, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	t.Cleanup(api.Close)
	rig.store, err = rig.storage.(storage.Extension).GetClient(context.Background(), component.KindReceiver, component.MustNewID("auth0login"), "poll")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rig.store.Close(context.Background())) })

	rig.tel = componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, rig.tel.Shutdown(context.Background())) })
	telemetry, err := metadata.NewTelemetryBuilder(rig.tel.NewTelemetrySettings())
	require.NoError(t, err)
	core, logs := observer.New(zap.DebugLevel)
	rig.logs = logs

	rig.p = newPoller(cfg.Poll, api, rig.store, rig.deliver, telemetry, zap.New(core))
	rig.p.sleep = func(ctx context.Context, d time.Duration) error {
		rig.waits = append(rig.waits, d)
		if len(rig.waits) > 20 {
			return errors.New("the poller does not stop retrying")
		}
		return ctx.Err()
	}
	return rig
}

func (rig *pollerRig) deliver(_ context.Context, page []json.RawMessage) (time.Time, error) {
	ids := make([]string, len(page))
	for i, raw := range page {
		ids[i] = logID(raw)
	}
	rig.pages = append(rig.pages, ids)
	if len(rig.refuse) > 0 {
		err := rig.refuse[0]
		rig.refuse = rig.refuse[1:]
		return time.Time{}, err
	}
	return time.Now().Add(-time.Hour), nil
}

// drain finds the checkpoint and reads what the tenant has.
func (rig *pollerRig) drain(t *testing.T) {
	t.Helper()
	require.NoError(t, rig.p.init(context.Background()))
	rig.p.drain(context.Background())
}

func (rig *pollerRig) storedCheckpoint(t *testing.T) string {
	t.Helper()
	raw, err := rig.store.Get(context.Background(), checkpointKey)
	require.NoError(t, err)
	return string(raw)
}

func (rig *pollerRig) requests(t *testing.T) map[string]int64 {
	t.Helper()
	m, err := rig.tel.GetMetric("otelcol_receiver_auth0login_poll_requests")
	require.NoError(t, err)
	results := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("result")
		results[v.AsString()] = dp.Value
	}
	return results
}

func TestPollerReadsPagesUntilShortAndKeepsItsPlace(t *testing.T) {
	rig := newPollerRig(t, nil)
	ids := rig.addLogs(1, 25)
	rig.drain(t)
	assert.Equal(t, [][]string{ids[:10], ids[10:20], ids[20:]}, rig.pages)
	assert.Empty(t, rig.waits, "nothing failed: no wait inside a drain")
	assert.Equal(t, ids[24], rig.p.checkpoint)
	assert.Equal(t, ids[24], rig.storedCheckpoint(t))
	assert.Equal(t, map[string]int64{"ok": 3}, rig.requests(t))
	lag, ok := rig.p.lag()
	require.True(t, ok)
	assert.GreaterOrEqual(t, lag, time.Hour, "the age of the newest event deliver reported")

	// The next drain starts after the checkpoint; an empty page ends it.
	more := rig.addLogs(26, 3)
	rig.pages = nil
	rig.p.drain(context.Background())
	assert.Equal(t, [][]string{more}, rig.pages)
	rig.pages = nil
	rig.p.drain(context.Background())
	assert.Empty(t, rig.pages)
	assert.Equal(t, map[string]int64{"ok": 4, "empty": 1}, rig.requests(t))
}

// A poller that stops logs the last page it delivered: the start of a
// poller that lost its stored checkpoint.
func TestPollerLogsItsCheckpointWhenItStops(t *testing.T) {
	rig := newPollerRig(t, nil)
	ids := rig.addLogs(1, 25)
	slept := make(chan struct{})
	var once sync.Once
	rig.p.sleep = func(ctx context.Context, _ time.Duration) error {
		once.Do(func() { close(slept) })
		<-ctx.Done()
		return ctx.Err()
	}
	rig.p.start()
	<-slept
	rig.p.shutdown()
	stops := rig.logs.FilterMessageSnippet("stopped reading Auth0's log API").All()
	require.Len(t, stops, 1)
	assert.Equal(t, ids[24], stops[0].ContextMap()["log_id"])
	assert.Equal(t, ids[24], rig.storedCheckpoint(t), "the logged log id is the stored checkpoint")

	// Stopped while it still looks for where to start (Auth0 answers 503):
	// it says it read nothing, and names no log id.
	early := newPollerRig(t, func(c *PollConfig) { c.Start = "now" })
	early.fake.FailNext(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	retrying := make(chan struct{})
	var retryOnce sync.Once
	early.p.sleep = func(ctx context.Context, _ time.Duration) error {
		retryOnce.Do(func() { close(retrying) })
		<-ctx.Done()
		return ctx.Err()
	}
	early.p.start()
	<-retrying
	early.p.shutdown()
	assert.Len(t, early.logs.FilterMessageSnippet("stopped before reading Auth0's log API").All(), 1)
	assert.Empty(t, early.logs.FilterMessageSnippet("stopped reading Auth0's log API").All())
}

// A page the pipeline refuses for now is read again, after 1s, 2s, 4s...
// up to the poll interval; the checkpoint does not move until the page is
// accepted, and the waits start again from 1s after an accepted page.
func TestPollerReadsARefusedPageAgainWithBackoff(t *testing.T) {
	rig := newPollerRig(t, func(c *PollConfig) { c.Interval = 3 * time.Second })
	ids := rig.addLogs(1, 15)
	busy := errors.New("memory_limiter refused the data")
	rig.refuse = []error{busy, busy, busy, nil, busy}
	rig.drain(t)
	assert.Equal(t, [][]string{ids[:10], ids[:10], ids[:10], ids[:10], ids[10:], ids[10:]}, rig.pages)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, time.Second}, rig.waits)
	assert.Equal(t, ids[14], rig.storedCheckpoint(t))
	assert.Len(t, rig.logs.FilterMessageSnippet("it will be read again").All(), 1, "a failing pipeline is logged at most every 30s")
}

func TestPollerCheckpointMovesOnlyWithAnAcceptedPage(t *testing.T) {
	rig := newPollerRig(t, nil)
	rig.addLogs(1, 5)
	busy := errors.New("refused")
	rig.refuse = []error{busy}
	ctx, cancel := context.WithCancel(context.Background())
	rig.p.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	require.NoError(t, rig.p.init(ctx))
	rig.p.drain(ctx) // refused, then stopped while waiting
	assert.Len(t, rig.pages, 1)
	assert.Empty(t, rig.p.checkpoint)
	assert.Empty(t, rig.storedCheckpoint(t), "a refused page is not past the checkpoint")
	_, ok := rig.p.lag()
	assert.False(t, ok, "nothing delivered: no lag to report")
}

func TestPollerSkipsAPageRefusedPermanently(t *testing.T) {
	rig := newPollerRig(t, nil)
	ids := rig.addLogs(1, 12)
	rig.refuse = []error{consumererror.NewPermanent(errors.New("bad data"))}
	rig.drain(t)
	assert.Equal(t, [][]string{ids[:10], ids[10:]}, rig.pages, "the refused page is not read again")
	assert.Empty(t, rig.waits)
	assert.Equal(t, ids[11], rig.storedCheckpoint(t))
	assert.Len(t, rig.logs.FilterMessageSnippet("refused a page of Auth0 logs permanently").All(), 1)
}

// A failing API is retried with the same backoff; wrong credentials end
// the drain at once (retrying cannot help before the next interval).
func TestPollerAPIErrors(t *testing.T) {
	rig := newPollerRig(t, func(c *PollConfig) { c.Interval = time.Minute })
	ids := rig.addLogs(1, 3)
	rig.fake.FailNext(http.StatusInternalServerError, http.StatusBadGateway)
	rig.drain(t)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, rig.waits)
	assert.Equal(t, [][]string{ids}, rig.pages)
	assert.Equal(t, map[string]int64{"retryable": 2, "ok": 1}, rig.requests(t))

	wrong := newPollerRig(t, func(c *PollConfig) { c.ManagementAPI.ClientSecret = "wrong" })
	wrong.addLogs(1, 3)
	wrong.drain(t)
	assert.Empty(t, wrong.pages)
	assert.Empty(t, wrong.waits, "no retry within the drain")
	assert.Equal(t, map[string]int64{"unauthorized": 1}, wrong.requests(t))
}

func TestPollerStartsWhereConfigured(t *testing.T) {
	now := newPollerRig(t, func(c *PollConfig) { c.Start = "now" })
	ids := now.addLogs(1, 5)
	now.drain(t)
	assert.Equal(t, ids[4], now.p.checkpoint, "start: now begins after the newest event")
	assert.Empty(t, now.pages)

	from := newPollerRig(t, nil)
	ids = from.addLogs(1, 5)
	from.p.cfg.Start = ids[1]
	from.drain(t)
	assert.Equal(t, [][]string{ids[2:]}, from.pages, "start: a log id begins after it")

	// A stored checkpoint wins over start; one Auth0's retention passed is
	// reported, and reading goes on from the oldest event kept.
	gone := newPollerRig(t, func(c *PollConfig) { c.Start = "now" })
	ids = gone.addLogs(1, 5)
	require.NoError(t, gone.store.Set(context.Background(), checkpointKey, []byte(ids[0])))
	gone.fake.DropLogsBefore(ids[2])
	gone.drain(t)
	assert.Equal(t, [][]string{ids[2:]}, gone.pages)
	metadatatest.AssertEqualReceiverAuth0loginPollRetentionGaps(t, gone.tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// The receiver's side of a page: the same mapping, filter and dedupe as
// the webhook's, the log API as source, and a record that cannot be read
// skipped and logged without costing the others.
func TestHandlePage(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.Types.Exclude = []string{"f"} })
	older := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	newer := older.Add(time.Minute)
	raw := func(e auth0test.Event) json.RawMessage {
		b, err := json.Marshal(e.Data())
		require.NoError(t, err)
		return b
	}
	page := []json.RawMessage{
		raw(auth0test.Event{LogID: "1", Date: newer}),
		json.RawMessage(`{"log_id":`),
		raw(auth0test.Event{LogID: "2", Date: older}),
		raw(auth0test.Event{LogID: "1", Date: newer}),
		raw(auth0test.Event{LogID: "3", Type: "f", Date: newer.Add(time.Hour)}),
	}
	newest, err := h.rcv.handlePage(context.Background(), page)
	require.NoError(t, err)
	assert.Equal(t, newer, newest.UTC(), "the newest delivered event, not the filtered one")
	assert.Equal(t, []string{"1", "2"}, logIDs(sink))
	src, _ := allRecords(sink)[0].Attributes().Get("auth0.source")
	assert.Equal(t, "log_api", src.Str())
	warnings := h.logs.FilterMessageSnippet("could not be read").All()
	require.Len(t, warnings, 1)
	assert.Equal(t, int64(1), warnings[0].ContextMap()["records"])

	newest, err = h.rcv.handlePage(context.Background(), page[:1])
	require.NoError(t, err)
	assert.True(t, newest.IsZero(), "a duplicate delivers nothing, and no date")

	// The pipeline's refusal is the poller's to handle; the refused page
	// is not remembered as delivered, so that reading it again delivers it.
	next := &switchableConsumer{err: errors.New("sending queue is full")}
	h = startReceiver(t, next)
	_, err = h.rcv.handlePage(context.Background(), page[:1])
	require.ErrorContains(t, err, "sending queue is full")
	next.err = nil
	_, err = h.rcv.handlePage(context.Background(), page[:1])
	require.NoError(t, err)
	assert.Equal(t, 1, next.sink.LogRecordCount())
}

// Pull mode in the receiver: every event of the tenant once, in log_id
// order, with the log API as source.
func TestPollPagesUntilShort(t *testing.T) {
	e := newPollEnv(t)
	ids := e.addLogs(1, 250)
	sink := new(consumertest.LogsSink)
	h := e.start(sink)
	waitRecords(t, sink, 250)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, ids, logIDs(sink), "every event once, in log_id order")

	requests := e.fake.Requests(http.MethodGet, "/api/v2/logs")
	require.GreaterOrEqual(t, len(requests), 3)
	// Records carry the log API source and the stream's body shape.
	lr := allRecords(sink)[0]
	src, _ := lr.Attributes().Get("auth0.source")
	assert.Equal(t, "log_api", src.Str())
	bodyLogID, _ := lr.Body().Map().Get("log_id")
	assert.Equal(t, ids[0], bodyLogID.Str())

	// New events arrive at the next interval; empty pages cost nothing else.
	more := e.addLogs(251, 5)
	waitRecords(t, sink, 255)
	assert.Equal(t, append(ids, more...), logIDs(sink))
	// A page is counted once the pipeline took it, a moment after the sink has it.
	require.Eventually(t, func() bool {
		m, err := h.tel.GetMetric("otelcol_receiver_auth0login_records")
		if err != nil {
			return false
		}
		points := m.Data.(metricdata.Sum[int64]).DataPoints
		return len(points) == 1 && points[0].Value == 255
	}, 5*time.Second, 10*time.Millisecond)

	metadatatest.AssertEqualReceiverAuth0loginRecords(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "poll"), attribute.String("auth0_type", "s")), Value: 255},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	var lag float64
	require.Eventually(t, func() bool {
		m, err := h.tel.GetMetric("otelcol_receiver_auth0login_poll_lag")
		if err != nil {
			return false
		}
		lag = m.Data.(metricdata.Gauge[float64]).DataPoints[0].Value
		return true
	}, 5*time.Second, 50*time.Millisecond)
	assert.Positive(t, lag, "the events are from the past: a positive lag")
}

func TestPollStartNow(t *testing.T) {
	e := newPollEnv(t)
	e.addLogs(1, 40)
	sink := new(consumertest.LogsSink)
	e.start(sink, func(c *Config) { c.Poll.Start = "now" })
	time.Sleep(1500 * time.Millisecond)
	assert.Zero(t, sink.LogRecordCount(), "nothing older than the start")
	fresh := e.addLogs(41, 3)
	waitRecords(t, sink, 3)
	assert.Equal(t, fresh, logIDs(sink))
}

func TestPollRestartsFromTheCheckpoint(t *testing.T) {
	e := newPollEnv(t)
	first := e.addLogs(1, 150)
	sink := new(consumertest.LogsSink)
	h := e.start(sink)
	waitRecords(t, sink, 150)
	require.NoError(t, h.rcv.Shutdown(context.Background()))

	second := e.addLogs(151, 30)
	sink2 := new(consumertest.LogsSink)
	e.start(sink2)
	waitRecords(t, sink2, 30)
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, first, logIDs(sink))
	assert.Equal(t, second, logIDs(sink2), "exactly where it stopped")
}

// A crash between the pipeline accepting a page and the checkpoint being
// stored (here: the write fails, then the receiver is replaced): the next
// receiver reads the page again. Nothing is lost; the page's events are
// delivered twice, since a new process starts with an empty dedupe window.
// In the same process, a failed write costs nothing: the checkpoint moved
// in memory.
func TestPollCrashBetweenDeliveryAndCheckpoint(t *testing.T) {
	e := newPollEnv(t)
	ids := e.addLogs(1, 20)
	failing := &failingStorage{Extension: e.storage.(storage.Extension), failures: 1}
	sink := new(consumertest.LogsSink)
	h := startReceiverWithHost(t, sink, hostWithExtensions{component.MustNewID("file_storage"): failing}, e.pollOnly)
	waitRecords(t, sink, 20)
	more := e.addLogs(21, 2)
	waitRecords(t, sink, 22)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, append(ids, more...), logIDs(sink), "in the same process: no re-read")
	assert.NotEmpty(t, h.logs.FilterMessageSnippet("could not store the checkpoint").All())
	require.NoError(t, h.rcv.Shutdown(context.Background()))

	// The first page's checkpoint never reached storage, the second's did:
	// a new process resumes after the second page.
	sink2 := new(consumertest.LogsSink)
	e.start(sink2)
	time.Sleep(1500 * time.Millisecond)
	assert.Zero(t, sink2.LogRecordCount(), "the stored checkpoint is the latest one")

	// Now the crash itself: the stored checkpoint lags a delivered page.
	e2 := newPollEnv(t)
	first := e2.addLogs(1, 10)
	crashing := &failingStorage{Extension: e2.storage.(storage.Extension), failures: 100}
	sinkA := new(consumertest.LogsSink)
	hA := startReceiverWithHost(t, sinkA, hostWithExtensions{component.MustNewID("file_storage"): crashing}, e2.pollOnly)
	waitRecords(t, sinkA, 10)
	require.NoError(t, hA.rcv.Shutdown(context.Background()))
	sinkB := new(consumertest.LogsSink)
	e2.start(sinkB)
	waitRecords(t, sinkB, 10)
	assert.Equal(t, first, logIDs(sinkA))
	assert.Equal(t, first, logIDs(sinkB), "redelivered after the crash: at least once")
}

type failingStorage struct {
	storage.Extension
	failures int32
}

func (f *failingStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := f.Extension.GetClient(ctx, kind, id, name)
	return &failingClient{Client: c, left: &f.failures}, err
}

type failingClient struct {
	storage.Client
	left *int32
}

func (c *failingClient) Set(ctx context.Context, key string, value []byte) error {
	if atomic.AddInt32(c.left, -1) >= 0 {
		return errors.New("disk full")
	}
	return c.Client.Set(ctx, key, value)
}

var _ extension.Extension = (*failingStorage)(nil)

// 429s with x-ratelimit-reset: the poller waits for the reset, keeps its
// place, and gets everything.
func TestPollRateLimited(t *testing.T) {
	e := newPollEnv(t)
	ids := e.addLogs(1, 60)
	// Auth0's limit, and 429s on top of it (a budget shared with other clients).
	e.fake.SetRateLimit(5, 3)
	e.fake.FailNext(http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusTooManyRequests)
	sink := new(consumertest.LogsSink)
	h := e.start(sink, func(c *Config) { c.Poll.PageSize = 10 })
	waitRecords(t, sink, 60)
	assert.Equal(t, ids, logIDs(sink))
	var limited int
	for _, r := range e.fake.Requests(http.MethodGet, "/api/v2/logs") {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	assert.Positive(t, limited, "the fake did throttle")
	got, err := h.tel.GetMetric("otelcol_receiver_auth0login_poll_requests")
	require.NoError(t, err)
	results := map[string]int64{}
	for _, dp := range got.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("result")
		results[v.AsString()] = dp.Value
	}
	assert.Equal(t, int64(limited), results["rate_limited"])
	assert.GreaterOrEqual(t, results["ok"], int64(6))
}

// Retention dropped the stored checkpoint: the receiver says so and reads
// from the oldest event Auth0 still keeps.
func TestPollRetentionDroppedTheCheckpoint(t *testing.T) {
	e := newPollEnv(t)
	e.addLogs(1, 10)
	sink := new(consumertest.LogsSink)
	h := e.start(sink)
	waitRecords(t, sink, 10)
	require.NoError(t, h.rcv.Shutdown(context.Background()))

	e.addLogs(11, 30)
	e.fake.DropLogsBefore(fmt.Sprintf("900202611200813%041d", 25)) // 11..24 are gone
	sink2 := new(consumertest.LogsSink)
	h2 := e.start(sink2)
	waitRecords(t, sink2, 16)
	assert.Equal(t, fmt.Sprintf("900202611200813%041d", 25), logIDs(sink2)[0])
	warnings := h2.logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("oldest log Auth0 still keeps").All()
	require.Len(t, warnings, 1)
	metadatatest.AssertEqualReceiverAuth0loginPollRetentionGaps(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 1}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// The webhook and pull mode at once: an event that arrives both ways
// reaches the pipeline once.
func TestPollAndWebhookTogether(t *testing.T) {
	e := newPollEnv(t)
	sink := new(consumertest.LogsSink)
	h := e.start(sink, func(c *Config) {
		c.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
		c.Secret = testSecret
		c.Poll.Interval = time.Second
	})
	// The stream delivers first, then the same events show up in the log API.
	batch := auth0test.Lines(auth0test.Event{LogID: fmt.Sprintf("900202611200813%041d", 1)}, auth0test.Event{LogID: fmt.Sprintf("900202611200813%041d", 2)})
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", batch).status)
	e.addLogs(1, 3)
	waitRecords(t, sink, 3)
	time.Sleep(time.Second)
	assert.Len(t, logIDs(sink), 3)
}

func TestPollConfigValidation(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = ""
	assert.ErrorContains(t, cfg.Validate(), "it may be empty only in pull mode")

	cfg.Poll.Enabled = true
	cfg.Poll.Interval = 0
	cfg.Poll.PageSize = 500
	cfg.Poll.Start = "yesterday"
	err := cfg.Validate()
	for _, want := range []string{"read:logs scope", `"poll.interval" must be at least 1s`, `"poll.page_size" must be between 1 and 100`, `"poll.start" must be "now", "oldest" or an Auth0 log id`} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), "no authentication", "no HTTP endpoint, no secret needed")

	e := &pollEnv{domain: "x.auth0.com", url: "http://127.0.0.1:1"}
	ok := createDefaultConfig().(*Config)
	e.pollOnly(ok)
	ok.Poll.Start = "90020261120081324062000000000000000000000000000001"
	assert.NoError(t, ok.Validate())
}
