package auth0loginreceiver

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// gate is a pipeline that holds every ConsumeLogs until released, and
// records the size of each call and whether its context was live.
type gate struct {
	entered chan int
	release chan error
	mu      sync.Mutex
	sizes   []int
	ctxErrs []error
	// refuse answers calls of this many records with refusal.
	refuseSize int
	refusal    error
}

func newGate() *gate { return &gate{entered: make(chan int, 100), release: make(chan error, 100)} }

func (g *gate) Capabilities() consumer.Capabilities { return consumer.Capabilities{MutatesData: true} }

func (g *gate) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	g.entered <- n
	err := <-g.release
	if n == g.refuseSize {
		err = g.refusal
	}
	g.mu.Lock()
	g.sizes = append(g.sizes, n)
	g.ctxErrs = append(g.ctxErrs, ctx.Err())
	g.mu.Unlock()
	return err
}

// newTestGroupCommit allows two commits in flight, so that the tests fill
// the slots with two held calls.
func newTestGroupCommit(next consumer.Logs) *groupCommit {
	g := newGroupCommit(next, testLogs)
	g.inFlight = make(chan struct{}, 2)
	return g
}

func testLogs() (plog.Logs, plog.LogRecordSlice) {
	logs := plog.NewLogs()
	return logs, logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
}

func records(ids ...string) plog.LogRecordSlice {
	_, rs := testLogs()
	for _, id := range ids {
		rs.AppendEmpty().Attributes().PutStr("id", id)
	}
	return rs
}

type outcome struct {
	id  string
	err error
}

func commitAsync(g *groupCommit, ctx context.Context, id string, out chan<- outcome) {
	go func() { out <- outcome{id, g.commit(ctx, records(id))} }()
}

// waitPending waits until n records sit in the open group.
func waitPending(t *testing.T, g *groupCommit, n int) {
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pending != nil && g.pending.records.Len() == n
	}, 5*time.Second, time.Millisecond)
}

func TestGroupCommitAloneGoesAtOnce(t *testing.T) {
	next := newGate()
	g := newTestGroupCommit(next)
	out := make(chan outcome, 1)
	commitAsync(g, context.Background(), "a", out)
	assert.Equal(t, 1, <-next.entered, "a lone request is consumed without waiting for company")
	next.release <- nil
	assert.NoError(t, (<-out).err)
}

// While the commit slots are busy, newcomers gather in one group, consumed
// in one call, and every one of them gets its answer.
func TestGroupCommitMergesWhileBusy(t *testing.T) {
	next := newGate()
	g := newTestGroupCommit(next)
	out := make(chan outcome, 10)
	commitAsync(g, context.Background(), "first", out)
	require.Equal(t, 1, <-next.entered)
	commitAsync(g, context.Background(), "second", out)
	require.Equal(t, 1, <-next.entered, "a second commit runs beside the first")

	for _, id := range []string{"c", "d", "e", "f"} {
		commitAsync(g, context.Background(), id, out)
	}
	waitPending(t, g, 4)
	select {
	case n := <-next.entered:
		t.Fatalf("a third commit started (%d records) while two were in flight", n)
	case <-time.After(50 * time.Millisecond):
	}

	next.release <- nil
	assert.Equal(t, 4, <-next.entered, "the four waiting requests go as one group")
	next.release <- nil
	next.release <- nil
	for range 6 {
		o := <-out
		assert.NoError(t, o.err, o.id)
	}
	assert.ElementsMatch(t, []int{1, 1, 4}, next.sizes)
}

// A refused group refuses every request in it, and only those.
func TestGroupCommitRefusalReachesEveryMember(t *testing.T) {
	refused := errors.New("queue is full")
	next := newGate()
	next.refuseSize, next.refusal = 2, refused
	g := newTestGroupCommit(next)
	out := make(chan outcome, 10)
	commitAsync(g, context.Background(), "a", out)
	<-next.entered
	commitAsync(g, context.Background(), "b", out)
	<-next.entered
	commitAsync(g, context.Background(), "c", out)
	commitAsync(g, context.Background(), "d", out)
	waitPending(t, g, 2)

	for range 3 {
		next.release <- nil
	}
	results := map[string]error{}
	for range 4 {
		o := <-out
		results[o.id] = o.err
	}
	assert.NoError(t, results["a"])
	assert.NoError(t, results["b"])
	assert.ErrorIs(t, results["c"], refused)
	assert.ErrorIs(t, results["d"], refused)
}

func TestGroupCommitBoundsGroupSize(t *testing.T) {
	next := newGate()
	g := newTestGroupCommit(next)
	g.maxSize = 3
	out := make(chan outcome, 10)
	commitAsync(g, context.Background(), "a", out)
	<-next.entered
	commitAsync(g, context.Background(), "b", out)
	<-next.entered
	for _, id := range []string{"c", "d", "e"} {
		commitAsync(g, context.Background(), id, out)
	}
	waitPending(t, g, 3)
	commitAsync(g, context.Background(), "overflow", out)
	waitPending(t, g, 1)
	for range 4 {
		next.release <- nil
	}
	for range 6 {
		assert.NoError(t, (<-out).err)
	}
	assert.ElementsMatch(t, []int{1, 1, 3, 1}, next.sizes, "a full group is closed, the next request starts another")
}

// The leader's client hanging up must not fail the group it carries.
func TestGroupCommitOutlivesLeaderContext(t *testing.T) {
	next := newGate()
	g := newTestGroupCommit(next)
	out := make(chan outcome, 10)
	commitAsync(g, context.Background(), "a", out)
	<-next.entered
	commitAsync(g, context.Background(), "b", out)
	<-next.entered
	ctx, cancel := context.WithCancel(context.Background())
	commitAsync(g, ctx, "leader", out)
	waitPending(t, g, 1)
	commitAsync(g, context.Background(), "member", out)
	waitPending(t, g, 2)
	cancel()
	for range 3 {
		next.release <- nil
	}
	for range 4 {
		assert.NoError(t, (<-out).err)
	}
	for _, err := range next.ctxErrs {
		assert.NoError(t, err)
	}
}
