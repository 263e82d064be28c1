// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package dedupe

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestWindow(ttl time.Duration, maxEntries int) (*Window, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	w := New(ttl, maxEntries)
	w.now = clock.now
	return w, clock
}

func TestExpiresAfterTTL(t *testing.T) {
	w, clock := newTestWindow(time.Minute, 10)
	a := w.Hash("a")
	assert.False(t, w.Contains(a))
	w.Add(a)
	assert.True(t, w.Contains(a))
	clock.t = clock.t.Add(59 * time.Second)
	assert.True(t, w.Contains(a))
	clock.t = clock.t.Add(time.Second)
	assert.False(t, w.Contains(a), "expired exactly at ttl")
	w.Add(w.Hash("b"))
	assert.Equal(t, 1, w.Len(), "expired entries are evicted on the next add")
}

func TestBoundedByMaxEntries(t *testing.T) {
	w, _ := newTestWindow(time.Hour, 3)
	for i := range 5 {
		w.Add(w.Hash(strconv.Itoa(i)))
	}
	assert.Equal(t, 3, w.Len())
	assert.False(t, w.Contains(w.Hash("0")))
	assert.False(t, w.Contains(w.Hash("1")))
	for _, id := range []string{"2", "3", "4"} {
		assert.True(t, w.Contains(w.Hash(id)), id)
	}
}

func TestReAddKeepsNewestExpiry(t *testing.T) {
	w, clock := newTestWindow(time.Minute, 2)
	a := w.Hash("a")
	w.Add(a)
	clock.t = clock.t.Add(30 * time.Second)
	w.Add(a)
	w.Add(w.Hash("b")) // evicts the first "a" entry from the ring
	assert.True(t, w.Contains(a), "the second add still holds")
	clock.t = clock.t.Add(45 * time.Second)
	assert.True(t, w.Contains(a))
	clock.t = clock.t.Add(15 * time.Second)
	assert.False(t, w.Contains(a))
}

func TestGrowsRingInOrder(t *testing.T) {
	w, clock := newTestWindow(time.Second, 5000)
	for i := range 3000 {
		w.Add(w.Hash(strconv.Itoa(i)))
		if i == 1000 {
			clock.t = clock.t.Add(500 * time.Millisecond)
		}
	}
	assert.Equal(t, 3000, w.Len())
	clock.t = clock.t.Add(600 * time.Millisecond)
	w.Add(w.Hash("new"))
	// The first 1001 entries expired; the ring kept insertion order across growth.
	assert.Equal(t, 2000, w.Len())
	assert.False(t, w.Contains(w.Hash("1000")))
	assert.True(t, w.Contains(w.Hash("1001")))
}

func TestDisabled(t *testing.T) {
	w, _ := newTestWindow(time.Minute, 0)
	w.Add(w.Hash("a"))
	assert.False(t, w.Contains(w.Hash("a")))
}

func TestConcurrentUse(t *testing.T) {
	w := New(time.Minute, 1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				h := w.Hash(strconv.Itoa(g*10000 + i))
				w.Add(h)
				w.Contains(h)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1000, w.Len())
}
