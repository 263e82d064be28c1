// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/semaphore"
)

// What a request costs, as admission counts it. A body's bytes are held
// once as read; parsing builds pdata from them, at most pdataPerByte bytes
// for each byte of JSON (arrays nested one in another are the worst shape,
// about 48 bytes for each pair of brackets) and recordOverhead for each record (its log record, body and
// attribute maps). docs/reliability.md has the measurements both bound.
const (
	pdataPerByte   = 26
	recordOverhead = 1536
)

// parseCost is the memory parsing a body of n bytes into at most records
// records may build, besides the body itself.
func parseCost(n, records int) int64 {
	return int64(n)*pdataPerByte + int64(records)*recordOverhead
}

// maxRequestCost is what the largest request the configuration allows
// costs: its body, and the records built from it.
func maxRequestCost(maxBody int64, maxRecords int) int64 {
	return maxBody + parseCost(int(maxBody), maxRecords)
}

var (
	// errBusy: no room was found within admission_timeout; the sender
	// should retry (503).
	errBusy = errors.New("busy")
	// errBeyondAdmission: the request alone needs more than the whole
	// budget, which the configuration's validation rules out.
	errBeyondAdmission = errors.New("the request needs more memory than admission_memory_mib")
)

// admission bounds what the requests being read and decoded hold
// together: their memory, counted as they grow, and their number (decoding
// is CPU work: a few per core keep the cores busy). memory_limiter sees
// records only once they are built; admission stops a flood before.
type admission struct {
	memory   *semaphore.Weighted
	capacity int64
	slots    chan struct{}
	timeout  time.Duration
}

func newAdmission(memory int64, slots int, timeout time.Duration) *admission {
	return &admission{
		memory:   semaphore.NewWeighted(memory),
		capacity: memory,
		slots:    make(chan struct{}, slots),
		timeout:  timeout,
	}
}

// ticket is one request's share of the admission; release gives it all
// back.
type ticket struct {
	a    *admission
	ctx  context.Context
	held int64
	slot bool
}

func (a *admission) ticket(ctx context.Context) *ticket {
	return &ticket{a: a, ctx: ctx}
}

// reserve takes n more bytes, waiting up to admission_timeout for them.
func (t *ticket) reserve(n int64) error {
	if n <= 0 {
		return nil
	}
	if t.held+n > t.a.capacity {
		return errBeyondAdmission
	}
	if !t.a.memory.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(t.ctx, t.a.timeout)
		defer cancel()
		if err := t.a.memory.Acquire(ctx, n); err != nil {
			return errBusy
		}
	}
	t.held += n
	return nil
}

// tryReserve reserves n bytes if admission has them now, without waiting.
func (t *ticket) tryReserve(n int64) bool {
	if n <= 0 {
		return true
	}
	if t.held+n > t.a.capacity || !t.a.memory.TryAcquire(n) {
		return false
	}
	t.held += n
	return true
}

// giveBack returns n bytes the request no longer holds.
func (t *ticket) giveBack(n int64) {
	n = min(n, t.held)
	if n > 0 {
		t.a.memory.Release(n)
		t.held -= n
	}
}

// takeSlot waits up to admission_timeout for one of the decoding slots.
func (t *ticket) takeSlot() error {
	select {
	case t.a.slots <- struct{}{}:
		t.slot = true
		return nil
	default:
	}
	timer := time.NewTimer(t.a.timeout)
	defer timer.Stop()
	select {
	case t.a.slots <- struct{}{}:
		t.slot = true
		return nil
	case <-timer.C:
	case <-t.ctx.Done():
	}
	return errBusy
}

func (t *ticket) release() {
	t.giveBack(t.held)
	if t.slot {
		<-t.a.slots
		t.slot = false
	}
}
