// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

const (
	testClientID     = "mgmt-client"
	testClientSecret = "mgmt-secret-d41d8cd98f00"
)

var tenantSeq atomic.Int64

// env is one processor under test, wired to real parts: the fake
// Management API over loopback through go-auth0, and the file_storage
// extension on a temporary directory.
type env struct {
	t       *testing.T
	fake    *fakeauth0.Server
	fakeURL string
	domain  string
	dir     string // storage directory; "" for no storage
	next    *gatedConsumer
	tel     *componenttest.Telemetry
	logs    *observer.ObservedLogs
	proc    *signupProcessor
	storage component.Component
}

func newEnv(t *testing.T) *env {
	t.Helper()
	domain := "acme" + strconv.FormatInt(tenantSeq.Add(1), 10) + ".eu.auth0.com"
	fake := fakeauth0.New(testClientID, testClientSecret, "https://"+domain+"/api/v2/")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &env{t: t, fake: fake, fakeURL: srv.URL, domain: domain, next: &gatedConsumer{}}
}

// withStorage keeps state in a file_storage directory that outlives
// restarts of the processor.
func (e *env) withStorage() *env {
	e.dir = e.t.TempDir()
	return e
}

// config is a processor config that reaches the fake with credentials.
func (e *env) config() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ManagementAPI.Domain = e.domain
	cfg.ManagementAPI.ClientID = testClientID
	cfg.ManagementAPI.ClientSecret = testClientSecret
	cfg.ManagementAPI.ClientConfig.Endpoint = e.fakeURL
	cfg.Updates.RetryOnFailure.InitialInterval = 20 * time.Millisecond // tests wait on retries
	cfg.Updates.RetryOnFailure.MaxInterval = 200 * time.Millisecond
	return cfg
}

// start runs a processor (again, after stop: a restart) in front of e.next.
func (e *env) start(cfg *Config) {
	e.t.Helper()
	e.startWithNext(cfg, e.next)
}

// startWithNext runs a processor in front of next.
func (e *env) startWithNext(cfg *Config, next consumer.Logs) *signupProcessor {
	e.t.Helper()
	require.NoError(e.t, cfg.Validate())
	host := hostWith{}
	if e.dir != "" {
		f := filestorage.NewFactory()
		scfg := f.CreateDefaultConfig().(*filestorage.Config)
		scfg.Directory = e.dir
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), scfg)
		require.NoError(e.t, err)
		require.NoError(e.t, ext.Start(context.Background(), componenttest.NewNopHost()))
		id := component.MustNewID("file_storage")
		host[id] = ext
		cfg.Storage = &id
		e.storage = ext
	}
	e.tel = componenttest.NewTelemetry()
	set := metadatatest.NewSettings(e.tel)
	core, logs := observer.New(zap.DebugLevel)
	set.Logger = zap.New(core)
	e.logs = logs
	p, err := newProcessor(set, cfg, next)
	require.NoError(e.t, err)
	require.NoError(e.t, p.Start(context.Background(), host))
	e.proc = p
	e.t.Cleanup(func() { e.stop() })
	return p
}

// writeStorage applies operations to the processor's store while no
// processor runs, as an earlier run could have left them.
func (e *env) writeStorage(ops ...*storage.Operation) {
	e.t.Helper()
	require.Nil(e.t, e.proc, "the processor must be stopped")
	f := filestorage.NewFactory()
	scfg := f.CreateDefaultConfig().(*filestorage.Config)
	scfg.Directory = e.dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), scfg)
	require.NoError(e.t, err)
	require.NoError(e.t, ext.Start(context.Background(), componenttest.NewNopHost()))
	client, err := ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), "")
	require.NoError(e.t, err)
	require.NoError(e.t, client.Batch(context.Background(), ops...))
	require.NoError(e.t, client.Close(context.Background()))
	require.NoError(e.t, ext.Shutdown(context.Background()))
}

// stop shuts the processor (and its storage) down; safe to call twice.
func (e *env) stop() {
	if e.proc == nil {
		return
	}
	require.NoError(e.t, e.proc.Shutdown(context.Background()))
	if e.storage != nil {
		require.NoError(e.t, e.storage.Shutdown(context.Background()))
		e.storage = nil
	}
	require.NoError(e.t, e.tel.Shutdown(context.Background()))
	e.proc = nil
}

// consume runs payloads through the processor as the receiver would
// deliver them: log stream batches, or Action payloads (a JSON object
// with "schema_version").
func (e *env) consume(payloads ...[]byte) error {
	e.t.Helper()
	return e.proc.ConsumeLogs(context.Background(), toLogs(e.t, payloads...))
}

func toLogs(t testing.TB, payloads ...[]byte) plog.Logs {
	t.Helper()
	return toLogsObserved(t, time.Now(), payloads...)
}

// toLogsObserved is toLogs with records a receiver took in at observed.
func toLogsObserved(t testing.TB, observed time.Time, payloads ...[]byte) plog.Logs {
	t.Helper()
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	now := pcommon.NewTimestampFromTime(observed)
	for _, body := range payloads {
		if payload, h, err := auth0event.ParseAction(body, auth0event.DefaultLimits); err == nil {
			auth0event.MapAction(payload, h, now, records.AppendEmpty())
			continue
		}
		_, rejected, err := auth0event.WalkLogStream(body, auth0event.DefaultLimits, func(rec pcommon.Map) {
			auth0event.MapLogEvent(rec, auth0event.LogEventHeader(rec), auth0event.SourceLogStream, now, records.AppendEmpty())
		})
		require.NoError(t, err)
		require.Empty(t, rejected)
	}
	return logs
}

// tag is what the processor decided for one delivered record.
type tag struct {
	User, Event, Basis, ID string
}

// tags lists, in order, the decisions of every record delivered so far.
func (e *env) tags() []tag {
	var out []tag
	for _, logs := range e.next.sink.AllLogs() {
		for i := range logs.ResourceLogs().Len() {
			for j := range logs.ResourceLogs().At(i).ScopeLogs().Len() {
				records := logs.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
				for k := range records.Len() {
					v := auth0event.NewView(records.At(k).Attributes(), records.At(k).Body())
					out = append(out, tag{User: v.Str(auth0event.AttrUserID), Event: v.Str(auth0event.AttrEvent), Basis: v.Str(auth0event.AttrEventBasis), ID: v.ID()})
				}
			}
		}
	}
	return out
}

// countEvents counts delivered records per user with the given event.
func (e *env) countEvents(event string) map[string]int {
	n := map[string]int{}
	for _, tg := range e.tags() {
		if tg.Event == event {
			n[tg.User]++
		}
	}
	return n
}

// gatedConsumer is the next component: it can refuse, like a full queue.
type gatedConsumer struct {
	mu   sync.Mutex
	err  error
	sink consumertest.LogsSink
}

func (c *gatedConsumer) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

func (c *gatedConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *gatedConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.sink.ConsumeLogs(ctx, ld)
}

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

func metadataSettings(t *testing.T) processor.Settings {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return metadatatest.NewSettings(tel)
}
