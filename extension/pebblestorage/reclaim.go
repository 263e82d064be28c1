package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// Intervals between reclaims: a queue that drained while little came in
// keeps its deletions in the memtable, and the values they deleted on
// disk, until the memtable fills; a full disk cannot wait for that.
const (
	reclaimInterval     = time.Minute
	fullReclaimInterval = time.Second
	flushTimeout        = time.Minute
)

// reclaimer gives back the disk space of deleted values: it flushes the
// memtable, so that its deletions reach the tables, and compacts the range
// of keys deleted since the last time, where a queue drained in order
// leaves little alive, so the compaction needs little room.
type reclaimer struct {
	db     *pebble.DB
	logger *zap.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	from, to []byte // keys deleted since the last reclaim; nil when none
	last     time.Time
	running  bool
}

func newReclaimer(db *pebble.DB, logger *zap.Logger) *reclaimer {
	ctx, cancel := context.WithCancel(context.Background())
	return &reclaimer{db: db, logger: logger, ctx: ctx, cancel: cancel, last: time.Now()}
}

// deleted notes the keys a committed batch deleted, and reclaims when the
// last reclaim is a reclaimInterval ago.
func (r *reclaimer) deleted(ops []*storage.Operation) {
	r.mu.Lock()
	for _, op := range ops {
		if op.Type != storage.Delete {
			continue
		}
		key := []byte(op.Key)
		if r.from == nil || bytes.Compare(key, r.from) < 0 {
			r.from = key
		}
		if r.to == nil || bytes.Compare(key, r.to) > 0 {
			r.to = key
		}
	}
	r.mu.Unlock()
	r.run(false)
}

// run starts a reclaim in the background unless one runs, nothing was
// deleted, or the last one is too recent: a fullReclaimInterval when the
// disk is full, a reclaimInterval otherwise.
func (r *reclaimer) run(full bool) {
	interval := reclaimInterval
	if full {
		interval = fullReclaimInterval
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running || r.from == nil || time.Since(r.last) < interval || r.ctx.Err() != nil {
		return
	}
	from, to := r.from, append(r.to, 0) // the end is exclusive
	r.from, r.to = nil, nil
	r.running = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.reclaim(from, to)
		r.mu.Lock()
		r.running, r.last = false, time.Now()
		r.mu.Unlock()
	}()
}

func (r *reclaimer) reclaim(from, to []byte) {
	flushed, err := r.db.AsyncFlush()
	if err != nil {
		r.logger.Debug("Flushing the memtable to reclaim space failed", zap.Error(err))
		return
	}
	select {
	case <-flushed:
	case <-r.ctx.Done():
		return
	case <-time.After(flushTimeout):
		r.logger.Debug("Flushing the memtable to reclaim space takes long; the compaction waits for the next reclaim")
		return
	}
	if err := r.db.Compact(r.ctx, from, to, false); err != nil && r.ctx.Err() == nil {
		r.logger.Debug("Compacting deleted keys failed", zap.Error(err))
	}
}

// stop cancels a running reclaim and waits for it.
func (r *reclaimer) stop() {
	r.cancel()
	r.wg.Wait()
}
