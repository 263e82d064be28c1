// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/retry"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

// checkpointKey is where the poller keeps the last delivered log id.
const checkpointKey = "poll/checkpoint"

// logAPI is what pull mode reads of Auth0's Management API
// (mgmtapi.Client). Errors are sorted with mgmtapi.Classify.
type logAPI interface {
	// ListLogs reads up to take log events after the log id from, in
	// log_id order.
	ListLogs(ctx context.Context, from string, take int) ([]json.RawMessage, error)
	// LogsByDate reads the first n log events by date, oldest or newest
	// first.
	LogsByDate(ctx context.Context, ascending bool, n int) ([]json.RawMessage, error)
}

// deliverPage hands a page of raw log events to the pipeline and returns
// the date of the newest event it delivered (zero when it delivered none).
// A page refused with a permanent error (consumererror.IsPermanent) is
// skipped; one refused with any other is read again.
type deliverPage func(ctx context.Context, page []json.RawMessage) (newest time.Time, err error)

// poller is pull mode: it reads GET /api/v2/logs from a checkpoint, page
// after page until a page comes back short, then waits for the next
// interval. It hands each page to deliver, which maps and delivers the
// records (in the receiver, through the same type filter and dedupe window
// as the webhook's, so that both can run at once without duplicates). The
// checkpoint advances only once deliver returned without error: a crash
// between the two re-reads that page, which the dedupe window drops if
// this process delivered it.
type poller struct {
	cfg       PollConfig
	api       logAPI
	store     storage.Client // nil: the checkpoint lives in memory only
	deliver   deliverPage
	telemetry *metadata.TelemetryBuilder
	logger    *zap.Logger
	// sleep waits between attempts and intervals; it returns an error
	// once ctx is done.
	sleep func(ctx context.Context, d time.Duration) error

	checkpoint string
	// newest is the date (unix nanos) of the newest event delivered, for
	// the lag metric.
	newest atomic.Int64

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	lastErrorLog time.Time
}

func newPoller(cfg PollConfig, api logAPI, store storage.Client, deliver deliverPage, telemetry *metadata.TelemetryBuilder, logger *zap.Logger) *poller {
	return &poller{
		cfg: cfg, api: api, store: store, deliver: deliver, telemetry: telemetry, logger: logger,
		sleep: retry.Sleep,
		stop:  make(chan struct{}), done: make(chan struct{}),
	}
}

func (p *poller) start() { go p.run() }

// shutdown stops polling and waits for a page in flight to finish.
func (p *poller) shutdown() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// backOff is the wait after a failed read or a refused page: 1s, doubling
// up to the poll interval, without jitter (one poller per tenant).
func (p *poller) backOff() *backoff.ExponentialBackOff {
	return retry.NewBackOff(configretry.BackOffConfig{InitialInterval: time.Second, Multiplier: 2, MaxInterval: p.cfg.Interval})
}

func (p *poller) run() {
	defer close(p.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	bo := p.backOff()
	for {
		err := p.init(ctx)
		if err == nil {
			break
		}
		p.logError("could not find where to start reading Auth0's log API; retrying", err)
		if p.sleep(ctx, bo.NextBackOff()) != nil {
			p.logger.Info("stopped before reading Auth0's log API: the stored checkpoint, if any, is where it was")
			return
		}
	}
	for {
		p.drain(ctx)
		if p.sleep(ctx, p.cfg.Interval) != nil {
			// The last page delivered: where a poller whose store is lost
			// (a new journal format, a new volume) resumes exactly, as its
			// poll.start.
			p.logger.Info("stopped reading Auth0's log API; to resume here without the stored checkpoint, start with this log id",
				zap.String("log_id", p.checkpoint))
			return
		}
	}
}

// init finds the checkpoint: the stored one, else the configured start.
func (p *poller) init(ctx context.Context) error {
	stored := ""
	if p.store != nil {
		raw, err := p.store.Get(ctx, checkpointKey)
		if err != nil {
			return err
		}
		stored = string(raw)
	}
	switch {
	case stored != "":
		p.checkpoint = stored
		p.logger.Info("resuming Auth0 log API reading from the stored checkpoint", zap.String("log_id", stored))
	case p.cfg.Start == "oldest":
		p.checkpoint = ""
	case p.cfg.Start == "now":
		newest, err := p.api.LogsByDate(ctx, false, 1)
		if err != nil {
			return err
		}
		if len(newest) == 1 {
			p.checkpoint = logID(newest[0])
		}
		p.logger.Info("reading Auth0's log API from now on", zap.String("log_id", p.checkpoint))
		return nil
	default:
		p.checkpoint = p.cfg.Start
	}
	if p.checkpoint == "" {
		return nil
	}
	// Auth0 keeps logs for 1 to 30 days: a checkpoint older than the
	// oldest log kept means events after it may be gone.
	oldest, err := p.api.LogsByDate(ctx, true, 1)
	if err != nil {
		return err
	}
	if len(oldest) == 1 {
		if first := logID(oldest[0]); logIDBefore(p.checkpoint, first) {
			p.telemetry.ReceiverAuth0loginPollRetentionGaps.Add(ctx, 1)
			p.logger.Warn("the checkpoint is older than the oldest log Auth0 still keeps: events after it may have been dropped by Auth0's retention; reading from the oldest available",
				zap.String("checkpoint", p.checkpoint), zap.String("oldest_available", first))
		}
	}
	return nil
}

// drain reads pages until one comes back short.
func (p *poller) drain(ctx context.Context) {
	bo := p.backOff()
	for ctx.Err() == nil {
		var page []json.RawMessage
		var err error
		if p.checkpoint == "" {
			page, err = p.api.LogsByDate(ctx, true, p.cfg.PageSize)
		} else {
			page, err = p.api.ListLogs(ctx, p.checkpoint, p.cfg.PageSize)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			class := mgmtapi.Classify(err)
			p.countRequest(ctx, class.String())
			p.logError("reading Auth0's log API failed", err)
			if class == mgmtapi.ClassUnauthorized || p.sleep(ctx, bo.NextBackOff()) != nil {
				return
			}
			continue
		}
		if len(page) == 0 {
			p.countRequest(ctx, "empty")
			return
		}
		p.countRequest(ctx, "ok")
		newest, err := p.deliver(ctx, page)
		if err != nil && !consumererror.IsPermanent(err) {
			// Refused for now: read the same page again after a while.
			p.logError("the pipeline refused a page of Auth0 logs; it will be read again", err)
			if p.sleep(ctx, bo.NextBackOff()) != nil {
				return
			}
			continue
		}
		if err != nil {
			p.logger.Error("the pipeline refused a page of Auth0 logs permanently; skipping it", zap.Error(err))
		}
		p.advance(ctx, logID(page[len(page)-1]), newest)
		bo.Reset()
		if len(page) < p.cfg.PageSize {
			return
		}
	}
}

// advance moves the checkpoint past a delivered page and stores it.
func (p *poller) advance(ctx context.Context, last string, newest time.Time) {
	if last == "" {
		return
	}
	p.checkpoint = last
	if !newest.IsZero() && newest.UnixNano() > p.newest.Load() {
		p.newest.Store(newest.UnixNano())
	}
	if p.store == nil {
		return
	}
	if err := p.store.Set(ctx, checkpointKey, []byte(last)); err != nil && !errors.Is(err, context.Canceled) {
		p.logError("could not store the checkpoint; after a restart the last pages will be read again", err)
	}
}

// lag is how old the newest delivered event is.
func (p *poller) lag() (time.Duration, bool) {
	n := p.newest.Load()
	if n == 0 {
		return 0, false
	}
	return time.Since(time.Unix(0, n)), true
}

func (p *poller) countRequest(ctx context.Context, result string) {
	p.telemetry.ReceiverAuth0loginPollRequests.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("result", result))))
}

// logError logs at most every 30s: a failing API fails every request.
func (p *poller) logError(msg string, err error) {
	if time.Since(p.lastErrorLog) < 30*time.Second {
		return
	}
	p.lastErrorLog = time.Now()
	p.logger.Warn(msg, zap.Error(err))
}

// logID reads the log id of a raw log event ("" when it has none).
func logID(raw json.RawMessage) string {
	var h struct {
		LogID string `json:"log_id"`
		ID    string `json:"_id"`
	}
	_ = json.Unmarshal(raw, &h)
	if h.LogID == "" {
		return h.ID
	}
	return h.LogID
}

// logIDBefore orders Auth0 log ids: numeric strings that grow with time.
func logIDBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
