package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
)

// checkpointKey is where the poller keeps the last delivered log id.
const checkpointKey = "poll/checkpoint"

// poller is pull mode: it reads GET /api/v2/logs from a checkpoint, page
// after page until a page comes back short, then waits for the next
// interval. The records go through the same mapping, type filter and
// dedupe window as the webhook's, so both can run at once without
// duplicates. The checkpoint advances only once the next consumer accepted
// the page: a crash between the two re-reads that page, which the dedupe
// window drops if this process delivered it.
type poller struct {
	r      *auth0Receiver
	cfg    PollConfig
	api    *mgmtapi.Client
	store  storage.Client // nil: the checkpoint lives in memory only
	obs    *receiverhelper.ObsReport
	logger *zap.Logger

	checkpoint string
	// newest is the date (unix nanos) of the newest event delivered, for
	// the lag metric.
	newest atomic.Int64

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	lastErrorLog time.Time
}

func newPoller(r *auth0Receiver, api *mgmtapi.Client, store storage.Client) (*poller, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             r.settings.ID,
		Transport:              "https",
		ReceiverCreateSettings: r.settings,
	})
	if err != nil {
		return nil, err
	}
	return &poller{
		r: r, cfg: r.cfg.Poll, api: api, store: store, obs: obs, logger: r.settings.Logger.With(zap.String("mode", "poll")),
		stop: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

func (p *poller) start() { go p.run() }

// shutdown stops polling and waits for a page in flight to finish.
func (p *poller) shutdown() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
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
	backoff := newBackoff(p.cfg.Interval)
	for {
		err := p.init(ctx)
		if err == nil {
			break
		}
		p.logError("could not find where to start reading Auth0's log API; retrying", err)
		if !sleep(ctx, backoff.next()) {
			return
		}
	}
	for {
		p.drain(ctx)
		if !sleep(ctx, p.cfg.Interval) {
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
			p.checkpoint = header(newest[0]).id
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
		if first := header(oldest[0]).id; logIDBefore(p.checkpoint, first) {
			p.r.telemetry.ReceiverAuth0loginPollRetentionGaps.Add(ctx, 1)
			p.logger.Warn("the checkpoint is older than the oldest log Auth0 still keeps: events after it may have been dropped by Auth0's retention; reading from the oldest available",
				zap.String("checkpoint", p.checkpoint), zap.String("oldest_available", first))
		}
	}
	return nil
}

// drain reads pages until one comes back short.
func (p *poller) drain(ctx context.Context) {
	backoff := newBackoff(p.cfg.Interval)
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
			if class == mgmtapi.ClassUnauthorized || !sleep(ctx, backoff.next()) {
				return
			}
			continue
		}
		if len(page) == 0 {
			p.countRequest(ctx, "empty")
			return
		}
		p.countRequest(ctx, "ok")
		last, newest, err := p.deliver(ctx, page)
		if err != nil && !consumererror.IsPermanent(err) {
			// Refused for now: read the same page again after a while.
			p.logError("the pipeline refused a page of Auth0 logs; it will be read again", err)
			if !sleep(ctx, backoff.next()) {
				return
			}
			continue
		}
		if err != nil {
			p.logger.Error("the pipeline refused a page of Auth0 logs permanently; skipping it", zap.Error(err))
		}
		p.advance(ctx, last, newest)
		backoff.reset()
		if len(page) < p.cfg.PageSize {
			return
		}
	}
}

// deliver maps a page and hands it on; it returns the page's last log id
// and its newest event date.
func (p *poller) deliver(ctx context.Context, page []json.RawMessage) (string, pcommon.Timestamp, error) {
	b := p.r.newBatch(endpointPoll)
	b.obs = p.obs
	ctx = p.obs.StartLogsOp(ctx)
	var newest pcommon.Timestamp
	for _, raw := range page {
		out, _ := auth0event.ReadLogStream(raw, p.r.limits, func(rec pcommon.Map, h auth0event.Header) {
			if b.admit(h) {
				lr := b.records.AppendEmpty()
				auth0event.MapLogEvent(rec, h, auth0event.SourceLogAPI, b.observed, lr)
				newest = max(newest, lr.Timestamp())
			}
		})
		b.rejected += out.Rejected
		if len(b.errors) < auth0event.MaxListedErrors {
			b.errors = append(b.errors, out.Errors...)
		}
	}
	if b.rejected > 0 {
		p.logger.Warn("Auth0's log API returned records that could not be read; they are skipped",
			zap.Int("records", b.rejected), zap.String("first_error", b.errors[0].Msg))
	}
	return header(page[len(page)-1]).id, newest, p.r.consume(ctx, b)
}

// advance moves the checkpoint past a delivered page and stores it.
func (p *poller) advance(ctx context.Context, last string, newest pcommon.Timestamp) {
	if last == "" {
		return
	}
	p.checkpoint = last
	if newest > 0 && int64(newest) > p.newest.Load() {
		p.newest.Store(int64(newest))
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
	p.r.telemetry.ReceiverAuth0loginPollRequests.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("result", result))))
}

// logError logs at most every 30s: a failing API fails every request.
func (p *poller) logError(msg string, err error) {
	if time.Since(p.lastErrorLog) < 30*time.Second {
		return
	}
	p.lastErrorLog = time.Now()
	p.logger.Warn(msg, zap.Error(err))
}

type logHeader struct {
	id string
}

// header reads the log id of a raw log event.
func header(raw json.RawMessage) logHeader {
	var h struct {
		LogID string `json:"log_id"`
		ID    string `json:"_id"`
	}
	_ = json.Unmarshal(raw, &h)
	if h.LogID == "" {
		h.LogID = h.ID
	}
	return logHeader{id: h.LogID}
}

// logIDBefore orders Auth0 log ids: numeric strings that grow with time.
func logIDBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// backoff doubles from a second up to a cap.
type backoff struct {
	cur, cap time.Duration
}

func newBackoff(limit time.Duration) *backoff { return &backoff{cap: limit} }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = time.Second
	} else {
		b.cur = min(2*b.cur, b.cap)
	}
	return min(b.cur, b.cap)
}

func (b *backoff) reset() { b.cur = 0 }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
