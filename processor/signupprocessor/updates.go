// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// Update results, as counted in the updates metric.
const (
	updateOK               = "ok"
	updateRetried          = "retried"
	updateRateLimited      = "rate_limited"
	updateFailed           = "failed"
	updateDroppedQueueFull = "dropped_queue_full"
	updateDroppedNotFound  = "dropped_not_found"
)

var updateResultAttrs = func() map[string]metric.MeasurementOption {
	m := map[string]metric.MeasurementOption{}
	for _, r := range []string{updateOK, updateRetried, updateRateLimited, updateFailed, updateDroppedQueueFull, updateDroppedNotFound} {
		m[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	return m
}()

// Storage keys of the persisted queue: a ring of sequence numbers, each
// entry holding a user id, between head (oldest outstanding) and tail (next).
const (
	keyUpdateHead   = "update/head"
	keyUpdateTail   = "update/tail"
	keyUpdatePrefix = "update/"
)

func updateKey(seq uint64) string { return keyUpdatePrefix + strconv.FormatUint(seq, 10) }

type pendingUpdate struct {
	user string
	seq  uint64
}

// updateQueue marks users signed up in Auth0, off the log path: a bounded
// FIFO drained by workers within the tenant's write budget, retried with
// backoff, one update per user however many SignUps asked for it, and
// persisted (when a storage extension is configured) from before the SignUp
// is delivered until Auth0 accepted the update.
type updateQueue struct {
	sender    *updateSender
	cfg       UpdateConfig
	client    storage.Client // nil: memory only
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	// writeOrder is held from a reservation until its writes returned.
	writeOrder sync.Mutex

	mu          sync.Mutex
	cond        *sync.Cond
	ready       []pendingUpdate
	queued      map[string]bool // users reserved, ready or in progress
	reserved    map[uint64]bool // persisted before delivery, not yet committed or aborted
	inProgress  int
	outstanding map[uint64]bool // committed, not yet applied
	head, tail  uint64
	stopping    bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newUpdateQueue(api *mgmtapi.Client, key string, cfg UpdateConfig, client storage.Client, logger *zap.Logger, telemetry *metadata.TelemetryBuilder) *updateQueue {
	q := &updateQueue{
		sender:      newUpdateSender(api, key, cfg.RetryOnFailure, logger, telemetry),
		cfg:         cfg,
		client:      client,
		logger:      logger,
		telemetry:   telemetry,
		queued:      map[string]bool{},
		reserved:    map[uint64]bool{},
		outstanding: map[uint64]bool{},
	}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q
}

// load reads the updates a previous run left pending, one per user, and
// resumes them all: whatever happened to a SignUp whose claim was not
// confirmed, its redelivery is the only record that can be that user's
// SignUp, and it needs the user marked just the same.
func (q *updateQueue) load(ctx context.Context) error {
	if q.client == nil {
		return nil
	}
	head, err := q.readCounter(ctx, keyUpdateHead)
	if err != nil {
		return err
	}
	tail, err := q.readCounter(ctx, keyUpdateTail)
	if err != nil {
		return err
	}
	// A stored head above the stored tail is the head of places whose
	// reservations never reached storage (their batch's write failed, and
	// a later write advanced the head past them): nothing is stored there,
	// and new places start at the head, where the next run looks.
	tail = max(tail, head)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.head, q.tail = head, tail
	var dropped []*storage.Operation
	for seq := head; seq < tail; seq++ {
		raw, err := q.client.Get(ctx, updateKey(seq))
		if err != nil {
			return err
		}
		if raw == nil {
			continue
		}
		user := string(raw)
		if q.queued[user] {
			// A second entry for one user (a crash between writes).
			dropped = append(dropped, storage.DeleteOperation(updateKey(seq)))
			continue
		}
		q.outstanding[seq] = true
		q.queued[user] = true
		q.ready = append(q.ready, pendingUpdate{user: user, seq: seq})
	}
	dropped = append(dropped, q.advanceHead()...)
	if len(dropped) > 0 {
		if err := q.client.Batch(ctx, dropped...); err != nil {
			return err
		}
	}
	if n := len(q.ready); n > 0 {
		q.logger.Info("resuming app_metadata updates left pending by the previous run", zap.Int("updates", n))
	}
	return nil
}

func (q *updateQueue) readCounter(ctx context.Context, key string) (uint64, error) {
	raw, err := q.client.Get(ctx, key)
	if err != nil || raw == nil {
		return 0, err
	}
	return strconv.ParseUint(string(raw), 10, 64)
}

func (q *updateQueue) start() {
	for range q.cfg.Workers {
		q.wg.Add(1)
		go q.work()
	}
}

// reserve takes queue places for users whose SignUp is about to be
// delivered, and returns the storage writes that persist them: they go in
// the same transaction as the SignUp claims, before the records leave.
// Users already queued get no second place; a full queue drops (counted).
//
// The caller calls written once those writes returned, whatever their
// outcome: until then no other reservation is made, so that reservations
// reach storage in the order they were made and the stored tail only
// grows (a smaller tail written last would hide the entries above it).
func (q *updateQueue) reserve(ctx context.Context, wants []pendingUpdate) (placed []pendingUpdate, ops []*storage.Operation, written func()) {
	q.writeOrder.Lock()
	placed, ops = q.place(ctx, wants)
	return placed, ops, q.writeOrder.Unlock
}

func (q *updateQueue) place(ctx context.Context, wants []pendingUpdate) ([]pendingUpdate, []*storage.Operation) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var placed []pendingUpdate
	var ops []*storage.Operation
	for _, u := range wants {
		user := u.user
		if q.queued[user] {
			continue
		}
		if len(q.ready)+len(q.reserved)+q.inProgress >= q.cfg.QueueSize {
			q.telemetry.ProcessorSignupUpdates.Add(ctx, 1, updateResultAttrs[updateDroppedQueueFull])
			q.logger.Warn("app_metadata update queue is full: this user is tagged SignUp but will not be marked in Auth0",
				zap.Int("queue_size", q.cfg.QueueSize))
			continue
		}
		u.seq = q.tail
		q.tail++
		q.queued[user] = true
		q.reserved[u.seq] = true
		placed = append(placed, u)
		if q.client != nil {
			ops = append(ops, storage.SetOperation(updateKey(u.seq), []byte(user)))
		}
	}
	if q.client != nil && len(placed) > 0 {
		ops = append(ops, storage.SetOperation(keyUpdateTail, []byte(strconv.FormatUint(q.tail, 10))))
	}
	return placed, ops
}

// commit hands reserved updates to the workers: the pipeline accepted
// their SignUps.
func (q *updateQueue) commit(placed []pendingUpdate) {
	if len(placed) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, u := range placed {
		delete(q.reserved, u.seq)
		q.outstanding[u.seq] = true
		q.ready = append(q.ready, u)
	}
	q.cond.Broadcast()
}

// abort releases reservations whose SignUps the pipeline refused, and
// returns the storage writes that forget them.
func (q *updateQueue) abort(placed []pendingUpdate) []*storage.Operation {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ops []*storage.Operation
	for _, u := range placed {
		delete(q.reserved, u.seq)
		delete(q.queued, u.user)
		if q.client != nil {
			ops = append(ops, storage.DeleteOperation(updateKey(u.seq)))
		}
	}
	return append(ops, q.advanceHead()...)
}

// advanceHead moves head past entries neither reserved nor outstanding,
// and returns the write that persists it. Called with mu held.
func (q *updateQueue) advanceHead() []*storage.Operation {
	old := q.head
	for q.head < q.tail && !q.outstanding[q.head] && !q.reserved[q.head] {
		q.head++
	}
	if q.client == nil || q.head == old {
		return nil
	}
	return []*storage.Operation{storage.SetOperation(keyUpdateHead, []byte(strconv.FormatUint(q.head, 10)))}
}

// depth is the number of updates waiting or in progress.
func (q *updateQueue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready) + q.inProgress
}

// next blocks until an update is ready, or returns false once the queue
// is stopping and empty, or its context is cancelled.
func (q *updateQueue) next() (pendingUpdate, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && !q.stopping && q.ctx.Err() == nil {
		q.cond.Wait()
	}
	if len(q.ready) == 0 || q.ctx.Err() != nil {
		return pendingUpdate{}, false
	}
	u := q.ready[0]
	q.ready = q.ready[1:]
	q.inProgress++
	return u, true
}

func (q *updateQueue) work() {
	defer q.wg.Done()
	for {
		u, ok := q.next()
		if !ok {
			return
		}
		if q.sender.send(q.ctx, u.user) {
			q.finish(u)
		} else {
			q.putBack(u)
		}
	}
}

// finish forgets an applied update, in storage too, advancing the
// persisted head past every entry already applied.
func (q *updateQueue) finish(u pendingUpdate) {
	q.mu.Lock()
	q.inProgress--
	delete(q.queued, u.user)
	delete(q.outstanding, u.seq)
	var ops []*storage.Operation
	if q.client != nil {
		ops = append(ops, storage.DeleteOperation(updateKey(u.seq)))
	}
	ops = append(ops, q.advanceHead()...)
	q.cond.Broadcast()
	q.mu.Unlock()
	if len(ops) > 0 {
		if err := q.client.Batch(context.Background(), ops...); err != nil && !errors.Is(err, context.Canceled) {
			q.logger.Warn("could not record an applied app_metadata update in storage; it may be sent again after a restart", zap.Error(err))
		}
	}
}

// putBack returns an update the queue stopped before applying; it stays
// persisted for the next run.
func (q *updateQueue) putBack(u pendingUpdate) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inProgress--
	q.ready = append([]pendingUpdate{u}, q.ready...)
}

// stop drains the queue for up to drainTimeout (bounded by ctx), then
// stops the workers; what is left stays in storage for the next start.
func (q *updateQueue) stop(ctx context.Context, drainTimeout time.Duration) {
	q.mu.Lock()
	q.stopping = true
	q.cond.Broadcast()
	q.mu.Unlock()

	done := waitWorkers(ctx, &q.wg, drainTimeout)
	q.cancel()
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
	<-done
	if left := q.depth(); left > 0 {
		if q.client != nil {
			q.logger.Info("app_metadata updates left for the next start", zap.Int("updates", left))
		} else {
			q.logger.Warn("app_metadata updates not sent before shutdown are lost: configure a storage extension to keep them", zap.Int("updates", left))
		}
	}
}
