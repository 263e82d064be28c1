// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// How groups form, are bounded and answered is internal/groupcommit's
// and tested there; these tests cover what the receiver adds: one
// container per group, the receiver's settings.

func testLogs() (plog.Logs, plog.LogRecordSlice) {
	logs := plog.NewLogs()
	scope := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	scope.Scope().SetName("test-scope")
	return logs, scope.LogRecords()
}

func records(ids ...string) plog.LogRecordSlice {
	_, rs := testLogs()
	for _, id := range ids {
		rs.AppendEmpty().Attributes().PutStr("id", id)
	}
	return rs
}

func ids(ld plog.Logs) []string {
	var out []string
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				id, _ := lr.Attributes().Get("id")
				out = append(out, id.Str())
			}
		}
	}
	return out
}

// A group's requests reach the pipeline as one ConsumeLogs of one resource
// and one scope, their records in the order the requests joined.
func TestGroupCommitConsumesOneContainer(t *testing.T) {
	sink := new(consumertest.LogsSink)
	consume := consumeGroup(sink, testLogs)
	require.NoError(t, consume(context.Background(), []plog.LogRecordSlice{records("a", "b"), records("c"), records("d", "e")}))
	require.Len(t, sink.AllLogs(), 1)
	ld := sink.AllLogs()[0]
	require.Equal(t, 1, ld.ResourceLogs().Len())
	require.Equal(t, 1, ld.ResourceLogs().At(0).ScopeLogs().Len())
	assert.Equal(t, "test-scope", ld.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Name())
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, ids(ld))
}

// slowSink takes a while over each ConsumeLogs, so that requests gather,
// and refuses every call when refuse is set.
type slowSink struct {
	consumertest.LogsSink
	refuse error
	mu     sync.Mutex
	calls  int
}

func (s *slowSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if s.refuse != nil {
		return s.refuse
	}
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

func (s *slowSink) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// Concurrent requests share ConsumeLogs calls, every record arrives once,
// and every request gets the pipeline's answer.
func TestGroupCommitConcurrentRequests(t *testing.T) {
	for _, refuse := range []error{nil, errors.New("queue is full")} {
		t.Run(fmt.Sprint("refuse=", refuse), func(t *testing.T) {
			const requests = 40
			var want []string
			for i := range requests {
				want = append(want, strconv.Itoa(i))
			}
			next := &slowSink{refuse: refuse}
			g := newGroupCommit(next, testLogs)
			var wg sync.WaitGroup
			for _, id := range want {
				wg.Go(func() {
					err := g.Commit(context.Background(), records(id))
					if refuse == nil {
						assert.NoError(t, err)
					} else {
						assert.ErrorIs(t, err, refuse)
					}
				})
			}
			wg.Wait()
			assert.Less(t, next.calls, requests, "requests arriving while commits run go together")
			if refuse == nil {
				var got []string
				for _, ld := range next.AllLogs() {
					got = append(got, ids(ld)...)
				}
				assert.ElementsMatch(t, want, got)
			}
		})
	}
}
