// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/dedupe"
	"github.com/otelcol-auth0/otelcol-auth0/internal/groupcommit"
	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

// maxHeaderBytes bounds a request's header lines, which the server reads
// before anyone is authenticated (net/http allows 1 MiB). Auth0 sends well
// under 1 KiB; a JWT from an auth extension a few KiB.
const maxHeaderBytes = 64 << 10

type auth0Receiver struct {
	cfg       *Config
	settings  receiver.Settings
	next      consumer.Logs
	commits   *groupcommit.Committer[plog.LogRecordSlice] // nil when each request must reach the pipeline alone
	obsrecv   *receiverhelper.ObsReport
	obspoll   *receiverhelper.ObsReport // pull mode's: it reads over HTTPS
	telemetry *metadata.TelemetryBuilder

	secret    *secretMatcher // nil when the receiver runs without one
	codings   codings
	maxBody   int64 // decoded bytes of one request's body
	admission *admission
	limits    auth0event.Limits
	filter    typeFilter
	seen      *dedupe.Window // nil when dedupe is off
	// gate admits requests until shutdown begins.
	gate *gate

	mu       sync.Mutex
	server   *http.Server
	serverWG sync.WaitGroup
	poller   *poller
	api      *mgmtapi.Client
	store    storage.Client
	queue    queueCounter // nil when shutdown does not wait for the queue
	// addr is the address actually listened on (the configured port may be 0).
	addr string
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*auth0Receiver, error) {
	transport := "http"
	if cfg.ServerConfig.TLS.HasValue() {
		transport = "https"
	}
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	obspoll, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "https",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &auth0Receiver{
		cfg:       cfg,
		settings:  set,
		next:      next,
		obsrecv:   obsrecv,
		obspoll:   obspoll,
		telemetry: telemetry,
		codings:   newCodings(cfg.ServerConfig.CompressionAlgorithms),
		maxBody:   cfg.maxRequestBodySize(),
		admission: newAdmission(cfg.AdmissionMemoryMiB<<20, cfg.MaxConcurrentRequests, cfg.AdmissionTimeout),
		limits: auth0event.Limits{
			JSON:           auth0event.DefaultLimits.JSON,
			MaxRecordBytes: cfg.MaxRecordSize,
			MaxRecords:     cfg.MaxRequestRecords,
		},
		filter: newTypeFilter(cfg.Types),
		gate:   newGate(),
	}
	// With include_metadata the pipeline reads each request's client
	// metadata from its context, which a group of requests cannot carry.
	if !cfg.ServerConfig.IncludeMetadata {
		r.commits = newGroupCommit(next, r.newLogs)
	}
	if secrets := cfg.secrets(); len(secrets) > 0 {
		r.secret = newSecretMatcher(secrets)
	}
	if cfg.Dedupe.Window > 0 {
		r.seen = dedupe.New(cfg.Dedupe.Window, cfg.Dedupe.MaxEntries)
	}
	return r, nil
}

// Start listens and serves in the background, and starts pull mode when
// it is enabled. It may be called again after Shutdown: every start builds
// a fresh server.
func (r *auth0Receiver) Start(ctx context.Context, host component.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil || r.poller != nil {
		return nil
	}
	r.queue = nil
	if id := r.cfg.Drain.Storage; id != nil {
		queue, err := queueCounterOf(host, *id)
		if err != nil {
			return err
		}
		r.queue = queue
	}
	r.gate.open()
	if r.seen != nil {
		if err := r.telemetry.RegisterReceiverAuth0loginDedupeEntriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(r.seen.Len()))
			return nil
		}); err != nil {
			return err
		}
	}
	if r.cfg.ServerConfig.NetAddr.Endpoint != "" {
		if err := r.startServer(ctx, host); err != nil {
			return err
		}
	}
	if r.cfg.Poll.Enabled {
		if err := r.startPoller(ctx, host); err != nil {
			return errors.Join(err, r.stop(ctx))
		}
	}
	return nil
}

func (r *auth0Receiver) startServer(ctx context.Context, host component.Host) error {
	switch {
	case r.cfg.AllowUnauthenticated:
		r.settings.Logger.Warn("auth0login receiver accepts requests WITHOUT authentication (allow_unauthenticated: true): anyone who reaches the endpoint can write records",
			zap.String("endpoint", r.cfg.ServerConfig.NetAddr.Endpoint))
	case r.secret == nil:
		r.settings.Logger.Info("auth0login receiver authenticates requests with its auth extension only (no secret configured)")
	case len(r.secret.sums) > 1:
		r.settings.Logger.Info("auth0login receiver accepts the previous secrets beside the current one while they rotate; remove them once otelcol_receiver_auth0login_requests_authenticated{secret=\"previous\"} stops growing",
			zap.Int("previous_secrets", len(r.secret.sums)-1))
	}

	mux := http.NewServeMux()
	mux.Handle(r.cfg.LogsPath, r.endpoint(endpointLogs, r.handleLogStream))
	mux.Handle(r.cfg.ActionsPath, r.endpoint(endpointActions, r.handleAction))

	listener, err := r.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	// confighttp decodes bodies before any handler runs, so before the
	// secret is checked: it is given no coding at all (an empty, not a
	// nil, list), and the endpoints decode after authentication, within
	// their limits and admission (encoding.go). Its body limit then counts
	// the bytes on the wire.
	serverConfig := r.cfg.ServerConfig
	serverConfig.CompressionAlgorithms = []string{}
	serverConfig.MaxRequestBodySize = r.maxBody
	server, err := serverConfig.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux,
		confighttp.WithErrorHandler(r.writeServerError))
	if err != nil {
		_ = listener.Close()
		return err
	}
	server.MaxHeaderBytes = maxHeaderBytes
	r.server = server
	r.addr = listener.Addr().String()
	r.serverWG.Add(1)
	go func() {
		defer r.serverWG.Done()
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	r.settings.Logger.Info("auth0login receiver listening",
		zap.String("endpoint", listener.Addr().String()),
		zap.String("logs_path", r.cfg.LogsPath),
		zap.String("actions_path", r.cfg.ActionsPath))
	return nil
}

func (r *auth0Receiver) startPoller(ctx context.Context, host component.Host) error {
	api, err := mgmtapi.New(ctx, r.cfg.Poll.ManagementAPI, host, r.settings.TelemetrySettings)
	if err != nil {
		return err
	}
	r.api = api
	if id := r.cfg.Poll.Storage; id != nil {
		ext, ok := host.GetExtensions()[*id]
		if !ok {
			return fmt.Errorf("storage extension %q is not configured (add it under extensions and service::extensions)", *id)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("extension %q is not a storage extension", *id)
		}
		if r.store, err = se.GetClient(ctx, component.KindReceiver, r.settings.ID, "poll"); err != nil {
			return err
		}
	} else {
		r.settings.Logger.Warn("pull mode without a storage extension: the checkpoint lives in memory, a restart begins again at poll.start")
	}
	p := newPoller(r.cfg.Poll, api, r.store, r.handlePage, r.telemetry, r.settings.Logger.With(zap.String("mode", "poll")))
	if err := r.telemetry.RegisterReceiverAuth0loginPollLagCallback(func(_ context.Context, o metric.Float64Observer) error {
		if lag, ok := p.lag(); ok {
			o.Observe(lag.Seconds())
		}
		return nil
	}); err != nil {
		return err
	}
	r.poller = p
	p.start()
	r.settings.Logger.Info("auth0login receiver reading Auth0's log API", zap.String("domain", r.cfg.Poll.ManagementAPI.Domain),
		zap.Duration("interval", r.cfg.Poll.Interval))
	return nil
}

// Shutdown answers new requests 503 and stops polling; it waits for the
// requests and the page in flight, whose records are then either
// delivered or refused to their sender, then for the persistent queue to
// drain (DrainConfig), and stops the server, all up to ctx's deadline. It
// is safe before Start, and a second call finds nothing left to stop.
func (r *auth0Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil && r.poller == nil {
		return r.stop(ctx)
	}
	idle := r.gate.close()
	if r.poller != nil {
		r.poller.shutdown()
		r.poller = nil
	}
	r.drain(ctx, idle)
	return r.stop(ctx)
}

func (r *auth0Receiver) stop(ctx context.Context) error {
	var errs []error
	if r.server != nil {
		if err := r.server.Shutdown(ctx); err != nil {
			// The deadline passed with requests still in flight: cut them.
			errs = append(errs, err, r.server.Close())
		}
		r.serverWG.Wait()
		r.server = nil
	}
	if r.poller != nil {
		r.poller.shutdown()
		r.poller = nil
	}
	if r.store != nil {
		errs = append(errs, r.store.Close(ctx))
		r.store = nil
	}
	if r.api != nil {
		r.api.Close()
		r.api = nil
	}
	r.telemetry.Shutdown()
	return errors.Join(errs...)
}
