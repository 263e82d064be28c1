// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate is a commit that holds every call until released, and records the
// items of each call and whether its context was live.
type gate struct {
	entered chan []string
	release chan struct{}
	// refuse, when set, answers calls of refuseItems items with it.
	refuse      error
	refuseItems int
	mu          sync.Mutex
	calls       [][]string
	ctxErrs     []error
}

func newGate() *gate {
	return &gate{entered: make(chan []string, 100), release: make(chan struct{}, 100)}
}

func (g *gate) commit(ctx context.Context, items []string) error {
	g.entered <- items
	<-g.release
	var err error
	if g.refuse != nil && len(items) == g.refuseItems {
		err = g.refuse
	}
	g.mu.Lock()
	g.calls = append(g.calls, items)
	g.ctxErrs = append(g.ctxErrs, ctx.Err())
	g.mu.Unlock()
	return err
}

// newTestCommitter allows two commits in flight, so that the tests fill
// the slots with two held calls.
func newTestCommitter(g *gate) *Committer[string] {
	return New(g.commit, Options[string]{InFlight: 2})
}

type outcome struct {
	item string
	err  error
}

func commitAsync(ctx context.Context, c *Committer[string], item string, out chan<- outcome) {
	go func() { out <- outcome{item, c.Commit(ctx, item)} }()
}

// waitOpen waits until n items sit in the open group.
func waitOpen(t *testing.T, c *Committer[string], n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.open != nil && len(c.open.items) == n
	}, 5*time.Second, time.Millisecond)
}

// fillSlots starts two lone commits and holds them.
func fillSlots(t *testing.T, c *Committer[string], g *gate, out chan<- outcome) {
	t.Helper()
	commitAsync(context.Background(), c, "slot1", out)
	require.Equal(t, []string{"slot1"}, <-g.entered)
	commitAsync(context.Background(), c, "slot2", out)
	require.Equal(t, []string{"slot2"}, <-g.entered, "a second commit runs beside the first")
}

func TestAloneGoesAtOnce(t *testing.T) {
	g := newGate()
	c := newTestCommitter(g)
	out := make(chan outcome, 1)
	commitAsync(context.Background(), c, "a", out)
	assert.Equal(t, []string{"a"}, <-g.entered, "a lone caller is committed without waiting for company")
	g.release <- struct{}{}
	assert.NoError(t, (<-out).err)
}

// While the commit slots are busy, newcomers gather in one group,
// committed in one call, and every one of them gets its answer.
func TestMergesWhileBusy(t *testing.T) {
	g := newGate()
	c := newTestCommitter(g)
	out := make(chan outcome, 10)
	fillSlots(t, c, g, out)
	for _, item := range []string{"c", "d", "e", "f"} {
		commitAsync(context.Background(), c, item, out)
	}
	waitOpen(t, c, 4)
	select {
	case items := <-g.entered:
		t.Fatalf("a third commit started (%v) while two were in flight", items)
	case <-time.After(50 * time.Millisecond):
	}

	g.release <- struct{}{}
	assert.Len(t, <-g.entered, 4, "the four waiting callers go as one group")
	g.release <- struct{}{}
	g.release <- struct{}{}
	for range 6 {
		o := <-out
		assert.NoError(t, o.err, o.item)
	}
}

// A refused group refuses every caller in it, and only those.
func TestErrorReachesEveryMemberOfItsGroup(t *testing.T) {
	refused := errors.New("queue is full")
	g := newGate()
	g.refuse, g.refuseItems = refused, 2
	c := newTestCommitter(g)
	out := make(chan outcome, 10)
	fillSlots(t, c, g, out)
	commitAsync(context.Background(), c, "c", out)
	commitAsync(context.Background(), c, "d", out)
	waitOpen(t, c, 2)
	for range 3 {
		g.release <- struct{}{}
	}
	results := map[string]error{}
	for range 4 {
		o := <-out
		results[o.item] = o.err
	}
	assert.NoError(t, results["slot1"])
	assert.NoError(t, results["slot2"])
	assert.ErrorIs(t, results["c"], refused)
	assert.ErrorIs(t, results["d"], refused)
}

func TestBoundsGroupSize(t *testing.T) {
	g := newGate()
	c := New(g.commit, Options[string]{InFlight: 2, MaxSize: 3, Size: func(s string) int { return len(s) }})
	out := make(chan outcome, 10)
	fillSlots(t, c, g, out)
	for _, item := range []string{"c", "d", "e"} {
		commitAsync(context.Background(), c, item, out)
	}
	waitOpen(t, c, 3)
	commitAsync(context.Background(), c, "f", out)
	waitOpen(t, c, 1)
	for range 4 {
		g.release <- struct{}{}
	}
	for range 6 {
		assert.NoError(t, (<-out).err)
	}
	var sizes []int
	for _, call := range g.calls {
		sizes = append(sizes, len(call))
	}
	assert.ElementsMatch(t, []int{1, 1, 3, 1}, sizes, "a full group is closed, the next caller opens another")
}

// The leader's caller going away must not fail the group it carries.
func TestOutlivesLeaderContext(t *testing.T) {
	g := newGate()
	c := newTestCommitter(g)
	out := make(chan outcome, 10)
	fillSlots(t, c, g, out)
	ctx, cancel := context.WithCancel(context.Background())
	commitAsync(ctx, c, "leader", out)
	waitOpen(t, c, 1)
	commitAsync(context.Background(), c, "member", out)
	waitOpen(t, c, 2)
	cancel()
	for range 3 {
		g.release <- struct{}{}
	}
	for range 4 {
		assert.NoError(t, (<-out).err)
	}
	for _, err := range g.ctxErrs {
		assert.NoError(t, err)
	}
}

// With one commit in flight and no bound, items are committed in the order
// they came, across groups.
func TestOneInFlightKeepsOrder(t *testing.T) {
	g := newGate()
	c := New(g.commit, Options[string]{InFlight: 1})
	out := make(chan outcome, 10)
	commitAsync(context.Background(), c, "a", out)
	require.Equal(t, []string{"a"}, <-g.entered)
	for i, item := range []string{"b", "c", "d"} {
		commitAsync(context.Background(), c, item, out)
		waitOpen(t, c, i+1)
	}
	g.release <- struct{}{}
	require.Equal(t, []string{"b", "c", "d"}, <-g.entered)
	for i, item := range []string{"e", "f"} {
		commitAsync(context.Background(), c, item, out)
		waitOpen(t, c, i+1)
	}
	g.release <- struct{}{}
	require.Equal(t, []string{"e", "f"}, <-g.entered)
	g.release <- struct{}{}
	for range 6 {
		assert.NoError(t, (<-out).err)
	}
	var order []string
	for _, call := range g.calls {
		order = append(order, call...)
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f"}, order)
}

// Many callers at once: no caller returns before the commit that held its
// item returned, each gets that commit's result, no more commits run at
// once than allowed, and every item is committed exactly once.
func TestConcurrentCallers(t *testing.T) {
	const callers, each, inFlight, maxSize = 16, 200, 3, 10
	var mu sync.Mutex
	result := map[int]error{} // item -> the result of the commit that held it
	var running, most atomic.Int32
	var calls atomic.Int32
	commit := func(_ context.Context, items []int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		call := calls.Add(1)
		time.Sleep(time.Duration(call%3) * 100 * time.Microsecond)
		var err error
		if call%4 == 0 {
			err = fmt.Errorf("commit %d failed", call)
		}
		size := 0
		mu.Lock()
		for _, item := range items {
			_, twice := result[item]
			assert.False(t, twice, "item %d committed twice", item)
			result[item] = err
			size++
		}
		mu.Unlock()
		assert.LessOrEqual(t, size, maxSize)
		return err
	}
	c := New(commit, Options[int]{InFlight: inFlight, MaxSize: maxSize, Size: func(int) int { return 1 }})
	var wg sync.WaitGroup
	for caller := range callers {
		wg.Go(func() {
			for i := range each {
				item := caller*each + i
				err := c.Commit(context.Background(), item)
				mu.Lock()
				got, committed := result[item]
				mu.Unlock()
				if !assert.True(t, committed, "item %d answered before its commit", item) {
					return
				}
				assert.Equal(t, got, err, "item %d gets its commit's result", item)
			}
		})
	}
	wg.Wait()
	assert.Len(t, result, callers*each)
	assert.LessOrEqual(t, most.Load(), int32(inFlight))
	assert.Less(t, calls.Load(), int32(callers*each), "callers shared commits")
}
