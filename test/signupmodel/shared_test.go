// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupmodel

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// Two histories of two processes sharing a redis-server, written out by
// hand from what the generated ones found, so that each replays the same
// way every time.

// B's crash falls between the claim's confirmation in Redis and its
// confirmation in B's storage, after the exporter took the SignUp. The
// Action's retry reaches A, which drops it as delivered (Redis says so).
// The user's update was B's to send: B's next run must still send it.
func TestSharedUpdateOfASignUpConfirmedInRedisOnly(t *testing.T) {
	uid := "auth0|shared-confirm-u0"
	a := record{id: "action-shared-confirm-u0-1", user: uid, typ: "s", logins: 1, action: true}
	s := &scenario{
		seed:    1,
		test:    t.Name(),
		users:   []user{{id: uid}},
		actions: []record{a},
		// B's storage operations: 1 reads the user ahead, 2 writes the
		// claim with its update reservation, 3 confirms it.
		processes: [][]faults{{{}}, {{crashAtStorageOp: 3}, {}}},
	}
	w := newWorld(t, s)
	pa, pb := w.processes[0], w.processes[1]
	ra, err := w.start(pa, 1, s.processes[0][0])
	require.NoError(t, err)
	rb, err := w.start(pb, 1, s.processes[1][0])
	require.NoError(t, err)
	client := &http.Client{Timeout: 5 * time.Second}
	body := w.actionPayload(a)

	require.False(t, w.post(client, pb, "/auth0/actions", body), "B crashes as it confirms the claim")
	select {
	case <-rb.crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("B did not crash at its third storage operation")
	}
	rb.teardown()
	require.True(t, w.post(client, pa, "/auth0/actions", body), "A takes the Action's retry")
	rb, err = w.start(pb, 2, s.processes[1][1])
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	ra.stop()
	rb.stop()
	w.acked = map[string]record{a.id: a}
	w.report(w.check())
}

// The same Action post reaches both processes at once, for each of a few
// users, and nothing fails: one replica wins each claim, the other finds
// it held but not yet confirmed and emits the record again as the same
// SignUp. Each user gets one app_metadata update all the same.
func TestSharedOneUpdateWhenBothReplicasTakeTheRecord(t *testing.T) {
	s := &scenario{seed: 2, test: t.Name(), processes: [][]faults{{{}}, {{}}}}
	for u := range 12 {
		id := fmt.Sprintf("auth0|shared-both-u%d", u)
		s.users = append(s.users, user{id: id})
		s.actions = append(s.actions, record{id: fmt.Sprintf("action-shared-both-u%d-1", u), user: id, typ: "s", logins: 1, action: true})
	}
	w := newWorld(t, s)
	runs := startFirstRuns(t, w)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for _, a := range s.actions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !w.deliver(ctx, client, "/auth0/actions", w.actionPayload(a), true) {
				t.Errorf("%s was never accepted", a)
			}
		}()
	}
	wg.Wait()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	time.Sleep(200 * time.Millisecond) // a second update in flight lands
	for _, r := range runs {
		r.stop()
	}
	w.acked = map[string]record{}
	for _, a := range s.actions {
		w.acked[a.id] = a
	}
	w.report(w.check())
}

// A's crash falls after it wrote the claim of the user's first login and
// before the exporter took it: the claim is doubtful in Redis and in A's
// storage, with the user's update reserved. A starts again; the stream's
// redelivery of the login then reaches B, which does not know the user and
// asks Auth0 about them. That record is the user's SignUp: nothing may
// have marked the user in Auth0 before it was delivered, or B would take
// it for a returning user's login.
func TestSharedRedeliveryAfterTheHolderRestarted(t *testing.T) {
	uid := "auth0|shared-restart-u0"
	x := record{id: "90020261120080000000000000000000000000000000000001", user: uid, typ: "s", logins: 1}
	s := &scenario{
		seed:    3,
		test:    t.Name(),
		users:   []user{{id: uid}},
		batches: [][]record{{x}},
		// A's storage operations: 1 reads the user ahead, 2 writes the
		// claim with its update reservation; the exporter's first accept
		// never happens.
		processes: [][]faults{{{crashAtAccept: 1}, {}}, {{}}},
	}
	w := newWorld(t, s)
	pa, pb := w.processes[0], w.processes[1]
	ra, err := w.start(pa, 1, s.processes[0][0])
	require.NoError(t, err)
	rb, err := w.start(pb, 1, s.processes[1][0])
	require.NoError(t, err)
	client := &http.Client{Timeout: 5 * time.Second}
	body := auth0test.Lines(x.event())

	require.False(t, w.post(client, pa, "/auth0/logs", body), "A crashes before the exporter takes the batch")
	select {
	case <-ra.crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("A did not crash at the exporter's first accept")
	}
	ra.teardown()
	ra, err = w.start(pa, 2, s.processes[0][1])
	require.NoError(t, err)
	// Whatever A's second run resumes has time to reach Auth0.
	time.Sleep(500 * time.Millisecond)
	require.True(t, w.post(client, pb, "/auth0/logs", body), "B takes the stream's redelivery")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	ra.stop()
	rb.stop()
	w.acked = map[string]record{x.id: x}
	w.report(w.check())
}

// A claims the user's first login and its exporter refuses the batch: the
// claim stays in Redis (claims are never released), its update must not
// be sent, for the record was not delivered. The stream's redelivery
// reaches B, which asks Auth0 about the user: that record is the SignUp.
func TestSharedRedeliveryAfterARefusal(t *testing.T) {
	uid := "auth0|shared-refused-u0"
	x := record{id: "90020261120080000000000000000000000000000000000002", user: uid, typ: "s", logins: 1}
	s := &scenario{
		seed:      4,
		test:      t.Name(),
		users:     []user{{id: uid}},
		batches:   [][]record{{x}},
		processes: [][]faults{{{refuseRate: 1}}, {{}}},
	}
	w := newWorld(t, s)
	runs := startFirstRuns(t, w)
	client := &http.Client{Timeout: 5 * time.Second}
	body := auth0test.Lines(x.event())

	require.False(t, w.post(client, w.processes[0], "/auth0/logs", body), "A's exporter refuses the batch")
	// Whatever was queued for the claim has time to reach Auth0.
	time.Sleep(500 * time.Millisecond)
	require.True(t, w.post(client, w.processes[1], "/auth0/logs", body), "B takes the stream's redelivery")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	for _, r := range runs {
		r.stop()
	}
	w.acked = map[string]record{x.id: x}
	w.report(w.check())
}

// A claims the user's first login (a log record without a logins count,
// a SignUp on Auth0's word that the user is not marked) and its exporter
// refuses the batch: the claim stays in Redis. The stream's redelivery of
// that record reaches B while the Management API fails, then the user's
// signup record follows. The record holding the claim is the SignUp
// whatever else B can learn of the user at that moment; without it the
// user has none.
func TestSharedClaimHolderRedeliveredWhileLookupsFail(t *testing.T) {
	uid := "auth0|shared-lookup-u0"
	x := record{id: "90020261120080000000000000000000000000000000000003", user: uid, typ: "s"}
	y := record{id: "90020261120080000000000000000000000000000000000004", user: uid, typ: "ss"}
	s := &scenario{
		seed:      5,
		test:      t.Name(),
		users:     []user{{id: uid}},
		batches:   [][]record{{x}, {y}},
		processes: [][]faults{{{refuseRate: 1}}, {{}}},
	}
	w := newWorld(t, s)
	runs := startFirstRuns(t, w)
	client := &http.Client{Timeout: 5 * time.Second}

	require.False(t, w.post(client, w.processes[0], "/auth0/logs", auth0test.Lines(x.event())), "A's exporter refuses the batch")
	w.fake.FailNext(repeat(http.StatusServiceUnavailable, 5)...)
	require.True(t, w.post(client, w.processes[1], "/auth0/logs", auth0test.Lines(x.event())), "B takes the stream's redelivery")
	w.fake.ClearFailures()
	require.True(t, w.post(client, w.processes[1], "/auth0/logs", auth0test.Lines(y.event())), "B takes the signup record")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	for _, r := range runs {
		r.stop()
	}
	w.acked = map[string]record{x.id: x, y.id: y}
	w.report(w.check())
}

// One record decided two ways on two replicas, played out: A's lookup
// fails and it delivers the user's first login (no count) as a Login,
// answering the sender, and registers that Login in Redis; B's lookup
// finds the user unmarked and would claim the same record, but the claim
// loses to the registration, and B's exporter refuses the batch anyway.
// The sender never sends the record again (A answered), and no claim holds
// it: the user's signup record, arriving later, is their SignUp.
func TestSharedRecordDecidedTwoWaysLeavesTheSignUpToTheNextRecord(t *testing.T) {
	uid := "auth0|shared-split-u0"
	x := record{id: "90020261120080000000000000000000000000000000000005", user: uid, typ: "s"}
	y := record{id: "90020261120080000000000000000000000000000000000006", user: uid, typ: "ss"}
	s := &scenario{
		seed:      6,
		test:      t.Name(),
		users:     []user{{id: uid}},
		batches:   [][]record{{x}, {y}},
		processes: [][]faults{{{}}, {{refuseRate: 1}}},
	}
	w := newWorld(t, s)
	runs := startFirstRuns(t, w)
	client := &http.Client{Timeout: 5 * time.Second}

	w.fake.FailNext(http.StatusServiceUnavailable)
	require.True(t, w.post(client, w.processes[0], "/auth0/logs", auth0test.Lines(x.event())), "A, whose lookup fails, delivers the record as a Login")
	require.False(t, w.post(client, w.processes[1], "/auth0/logs", auth0test.Lines(x.event())), "B's exporter refuses its copy")
	require.True(t, w.post(client, w.processes[0], "/auth0/logs", auth0test.Lines(y.event())), "A takes the signup record")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
	for _, r := range runs {
		r.stop()
	}
	w.acked = map[string]record{x.id: x, y.id: y}
	failed, sum := w.check()
	w.report(failed, sum)
	require.Empty(t, failed)
	require.Equal(t, 1, sum.loginsRegistered, "A registered its Login")
}

// startFirstRuns starts the first run of each of the history's processes.
func startFirstRuns(t *testing.T, w *world) []*run {
	t.Helper()
	var runs []*run
	for i, p := range w.processes {
		r, err := w.start(p, 1, w.scenario.processes[i][0])
		require.NoError(t, err)
		runs = append(runs, r)
	}
	return runs
}
