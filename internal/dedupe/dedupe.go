// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package dedupe remembers recently seen ids in bounded memory.
//
// Auth0 delivers log stream records at least once, so the same log_id can
// arrive again minutes later. A Window keeps each id for a time-to-live and
// never more than a fixed number of ids; it stores a 64-bit hash of the id,
// not the id, so an entry costs tens of bytes whatever the id's length. Two
// different ids share a hash with probability about n²/2⁶⁵: for a full window
// of 10⁶ ids, under one in 10⁷.
package dedupe // import "github.com/otelcol-auth0/otelcol-auth0/internal/dedupe"

import (
	"hash/maphash"
	"sync"
	"time"
)

type entry struct {
	hash    uint64
	expires int64
}

// Window is a set of ids that forgets them after a time-to-live, or sooner
// when it holds its maximum. It is safe for concurrent use.
type Window struct {
	ttl  time.Duration
	max  int
	seed maphash.Seed
	now  func() time.Time

	mu      sync.Mutex
	expires map[uint64]int64
	// fifo holds entries in insertion order, which is also expiry order
	// because every entry gets the same ttl; it is a ring of up to max.
	fifo       []entry
	head, size int
}

// New returns a window that keeps ids for ttl, at most maxEntries at once.
func New(ttl time.Duration, maxEntries int) *Window {
	return &Window{
		ttl:     ttl,
		max:     maxEntries,
		seed:    maphash.MakeSeed(),
		now:     time.Now,
		expires: make(map[uint64]int64),
	}
}

// Hash is the key a Window stores for id.
func (w *Window) Hash(id string) uint64 { return maphash.String(w.seed, id) }

// Contains reports whether the id with this hash was added and has not expired.
func (w *Window) Contains(h uint64) bool {
	now := w.now().UnixNano()
	w.mu.Lock()
	exp, ok := w.expires[h]
	w.mu.Unlock()
	return ok && exp > now
}

// Add remembers the ids with these hashes for the window's ttl.
func (w *Window) Add(hashes ...uint64) {
	if len(hashes) == 0 || w.max <= 0 {
		return
	}
	now := w.now().UnixNano()
	exp := now + int64(w.ttl)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.evictExpired(now)
	for _, h := range hashes {
		if w.size == w.max {
			w.evictOldest()
		}
		w.push(entry{hash: h, expires: exp})
		w.expires[h] = exp
	}
}

// Len is the number of ids held, expired ones not yet evicted included.
func (w *Window) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

func (w *Window) evictExpired(now int64) {
	for w.size > 0 && w.fifo[w.head].expires <= now {
		w.evictOldest()
	}
}

func (w *Window) evictOldest() {
	e := w.fifo[w.head]
	// An id added again later has a newer expiry in the map: keep it.
	if w.expires[e.hash] == e.expires {
		delete(w.expires, e.hash)
	}
	w.head = (w.head + 1) % len(w.fifo)
	w.size--
}

// push appends to the ring, growing it by doubling up to max so that an idle
// window does not hold max entries' worth of memory.
func (w *Window) push(e entry) {
	if w.size == len(w.fifo) {
		grown := make([]entry, min(max(2*len(w.fifo), 1024), w.max))
		for i := range w.size {
			grown[i] = w.fifo[(w.head+i)%len(w.fifo)]
		}
		w.fifo, w.head = grown, 0
	}
	w.fifo[(w.head+w.size)%len(w.fifo)] = e
	w.size++
}
