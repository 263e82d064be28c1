// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// queueCounter is what the drain asks of the storage extension named by
// drain.storage: how many items the exporters' persistent queues hold in
// it now. journal_storage implements it.
type queueCounter interface {
	QueuedItems() int
}

const (
	// drainPoll is how often the drain looks at the queue: each look
	// takes the storage's lock once per open client.
	drainPoll = 100 * time.Millisecond
	// drainProgress is how often a long drain logs what is left.
	drainProgress = 10 * time.Second
)

// queueCounterOf finds the storage extension that drain.storage names.
func queueCounterOf(host component.Host, id component.ID) (queueCounter, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf(`"drain.storage": extension %q is not configured (add it under extensions and service::extensions; it must be the exporters' sending_queue::storage)`, id)
	}
	counter, ok := ext.(queueCounter)
	if !ok {
		return nil, fmt.Errorf(`"drain.storage": extension %q cannot count the items of the persistent queue it holds: name a journal_storage extension, or remove drain.storage to shut down without waiting for the queue`, id)
	}
	return counter, nil
}

// shuttingDownMessage answers the requests that arrive once shutdown began.
const shuttingDownMessage = "the collector is shutting down and takes no more records: retry later (another instance, or this one once restarted)"

// drain waits, after the gate closed, for the requests it admitted to be
// answered, then for the persistent queue to empty, up to drain.timeout or
// until ctx is done.
func (r *auth0Receiver) drain(ctx context.Context, idle <-chan struct{}) {
	timeout := r.cfg.Drain.Timeout
	if r.queue == nil || timeout <= 0 {
		return
	}
	began := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Records of a request admitted before the gate closed are queued, and
	// counted, once it is answered.
	select {
	case <-idle:
	case <-waitCtx.Done():
	}
	items := r.queue.QueuedItems()
	storage := r.cfg.Drain.Storage.String()
	if items == 0 {
		r.settings.Logger.Info("Shutting down: nothing is queued for the exporters", zap.String("storage", storage))
		r.recordDrainItems(0)
		return
	}
	r.settings.Logger.Info("Shutting down: new requests are answered 503; waiting for the persistent queue to reach its exporters",
		zap.Int("items", items), zap.Duration("timeout", timeout), zap.String("storage", storage))
	ticker := time.NewTicker(drainPoll)
	defer ticker.Stop()
	lastLog := time.Now()
	for items > 0 && waitCtx.Err() == nil {
		r.recordDrainItems(items)
		select {
		case <-waitCtx.Done():
		case <-ticker.C:
			items = r.queue.QueuedItems()
		}
		if items > 0 && time.Since(lastLog) >= drainProgress {
			lastLog = time.Now()
			r.settings.Logger.Info("Still draining the persistent queue", zap.Int("items", items), zap.Duration("elapsed", time.Since(began)))
		}
	}
	r.recordDrainItems(items)
	took := time.Since(began)
	switch {
	case items == 0:
		r.settings.Logger.Info("The persistent queue is drained", zap.Duration("took", took))
	case ctx.Err() != nil:
		r.settings.Logger.Warn("Shutdown was cut short before the persistent queue drained: the items left stay on this node's disk and are sent only when a collector starts again on the same storage",
			zap.Int("items_left", items), zap.String("storage", storage), zap.Duration("took", took), zap.Error(ctx.Err()))
	default:
		r.settings.Logger.Warn("The persistent queue did not drain within drain.timeout (is Splunk reachable?): the items left stay on this node's disk and are sent only when a collector starts again on the same storage; if the node goes, they go with it",
			zap.Int("items_left", items), zap.String("storage", storage), zap.Duration("timeout", timeout))
	}
}

func (r *auth0Receiver) recordDrainItems(n int) {
	r.telemetry.ReceiverAuth0loginDrainItems.Record(context.Background(), int64(n))
}

// gate admits requests until shutdown closes it, and tells when the
// requests it admitted have all been answered.
type gate struct {
	mu     sync.Mutex
	closed bool
	inside int
	// idle is closed once the gate is closed with nobody inside.
	idle       chan struct{}
	idleClosed bool
}

func newGate() *gate { return &gate{idle: make(chan struct{})} }

// open admits requests again, for a receiver started after a shutdown.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = false
	if g.idleClosed {
		g.idle, g.idleClosed = make(chan struct{}), false
	}
}

// enter admits a request, which must leave once answered; it reports
// false once the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inside++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inside--
	g.signalLocked()
}

// close admits no more requests; the channel it returns is closed once the
// admitted ones have left.
func (g *gate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	g.signalLocked()
	return g.idle
}

func (g *gate) signalLocked() {
	if g.closed && g.inside == 0 && !g.idleClosed {
		close(g.idle)
		g.idleClosed = true
	}
}
