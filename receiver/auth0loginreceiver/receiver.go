package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/dedupe"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

type auth0Receiver struct {
	cfg       *Config
	settings  receiver.Settings
	next      consumer.Logs
	obsrecv   *receiverhelper.ObsReport
	telemetry *metadata.TelemetryBuilder

	secret *secretMatcher // nil when the receiver runs without one
	slots  chan struct{}  // admission: one token per request being decoded
	limits auth0event.Limits
	filter typeFilter
	seen   *dedupe.Window // nil when dedupe is off

	mu       sync.Mutex
	server   *http.Server
	serverWG sync.WaitGroup
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
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &auth0Receiver{
		cfg:       cfg,
		settings:  set,
		next:      next,
		obsrecv:   obsrecv,
		telemetry: telemetry,
		limits:    auth0event.Limits{JSON: auth0event.DefaultLimits.JSON, MaxRecordBytes: cfg.MaxRecordSize},
		filter:    newTypeFilter(cfg.Types),
		slots:     make(chan struct{}, cfg.MaxConcurrentRequests),
	}
	if cfg.Secret != "" {
		r.secret = newSecretMatcher(string(cfg.Secret))
	}
	if cfg.Dedupe.Window > 0 {
		r.seen = dedupe.New(cfg.Dedupe.Window, cfg.Dedupe.MaxEntries)
	}
	return r, nil
}

// Start listens and serves in the background. It may be called again after
// Shutdown: every start builds a fresh server.
func (r *auth0Receiver) Start(ctx context.Context, host component.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		return nil
	}
	switch {
	case r.cfg.AllowUnauthenticated:
		r.settings.Logger.Warn("auth0login receiver accepts requests WITHOUT authentication (allow_unauthenticated: true): anyone who reaches the endpoint can write records",
			zap.String("endpoint", r.cfg.ServerConfig.NetAddr.Endpoint))
	case r.secret == nil:
		r.settings.Logger.Info("auth0login receiver authenticates requests with its auth extension only (no secret configured)")
	}

	mux := http.NewServeMux()
	mux.Handle(r.cfg.LogsPath, r.endpoint(endpointLogs, r.handleLogStream))
	mux.Handle(r.cfg.ActionsPath, r.endpoint(endpointActions, r.handleAction))

	listener, err := r.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return err
	}
	server, err := r.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux,
		confighttp.WithErrorHandler(r.writeDecompressionError))
	if err != nil {
		_ = listener.Close()
		return err
	}
	if r.seen != nil {
		if err := r.telemetry.RegisterReceiverAuth0loginDedupeEntriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(r.seen.Len()))
			return nil
		}); err != nil {
			_ = listener.Close()
			return err
		}
	}

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

// Shutdown stops accepting connections and waits for requests in flight,
// whose records are then either delivered or refused to their sender, up to
// ctx's deadline. It is safe before Start.
func (r *auth0Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return nil
	}
	err := r.server.Shutdown(ctx)
	if err != nil {
		// The deadline passed with requests still in flight: cut them.
		err = errors.Join(err, r.server.Close())
	}
	r.serverWG.Wait()
	r.telemetry.Shutdown()
	r.server = nil
	return err
}
