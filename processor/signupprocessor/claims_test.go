// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// heldConsumer holds every ConsumeLogs until the test answers it.
type heldConsumer struct {
	arrived chan struct{}
	answer  chan error
	next    consumer.Logs
}

func newHeldConsumer(next consumer.Logs) *heldConsumer {
	return &heldConsumer{arrived: make(chan struct{}, 16), answer: make(chan error), next: next}
}

func (h *heldConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (h *heldConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	h.arrived <- struct{}{}
	if err := <-h.answer; err != nil {
		return err
	}
	return h.next.ConsumeLogs(ctx, ld)
}

// A copy of a SignUp record arriving while the first is being delivered
// waits for the outcome: when the pipeline refuses the first, the copy is
// the SignUp; it is never dropped as delivered before the first was.
func TestCopyWaitsForTheClaimInFlight(t *testing.T) {
	for _, firstRefused := range []bool{true, false} {
		t.Run(map[bool]string{true: "first refused", false: "first delivered"}[firstRefused], func(t *testing.T) {
			e := newEnv(t)
			e.fake.AddUser("auth0|w", nil)
			held := newHeldConsumer(e.next)
			e.startWithNext(e.config(), held)
			record := auth0test.Lines(ev{LogID: "1", Type: "ss", UserID: "auth0|w"})

			first := make(chan error, 1)
			go func() { first <- e.consume(record) }()
			<-held.arrived
			second := make(chan error, 1)
			go func() { second <- e.consume(record) }()
			select {
			case err := <-second:
				t.Fatalf("the copy returned (%v) while the first was in flight", err)
			case <-held.arrived:
				t.Fatal("the copy was sent on while the first was in flight")
			case <-time.After(100 * time.Millisecond):
			}
			if firstRefused {
				held.answer <- errors.New("sending queue is full")
				require.Error(t, <-first)
				<-held.arrived
				held.answer <- nil
				require.NoError(t, <-second)
			} else {
				held.answer <- nil
				require.NoError(t, <-first)
				require.NoError(t, <-second)
			}
			assert.Equal(t, []tag{{"auth0|w", "SignUp", basisSignupType, "1"}}, e.tags())
			e.waitPatched("auth0|w")
			assert.Equal(t, map[string]int{"auth0|w": 1}, e.patches())
		})
	}
}

// Two batches that wait on each other's users never deadlock: a batch
// waits holding no claim of its own.
func TestCrossedCopiesDoNotDeadlock(t *testing.T) {
	e := newEnv(t)
	held := newHeldConsumer(e.next)
	e.startWithNext(e.config(), held)
	a := auth0test.Lines(ev{LogID: "a1", Type: "ss", UserID: "auth0|a"}, ev{LogID: "c1", Type: "ss", UserID: "auth0|c"}, ev{LogID: "b1", Type: "ss", UserID: "auth0|b"})
	b := auth0test.Lines(ev{LogID: "b1", Type: "ss", UserID: "auth0|b"}, ev{LogID: "d1", Type: "ss", UserID: "auth0|d"}, ev{LogID: "a1", Type: "ss", UserID: "auth0|a"})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, batch := range [][]byte{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.consume(batch)
		}()
	}
	<-held.arrived
	held.answer <- nil
	<-held.arrived
	held.answer <- nil
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{"auth0|a": 1, "auth0|b": 1, "auth0|c": 1, "auth0|d": 1}, e.countEvents("SignUp"))
}

// A copy that waits longer than maxClaimWait is refused, to be retried.
func TestCopyWaitIsBounded(t *testing.T) {
	e := newEnv(t)
	held := newHeldConsumer(e.next)
	e.startWithNext(e.config(), held)
	record := auth0test.Lines(ev{LogID: "1", Type: "ss", UserID: "auth0|slow"})
	go func() { _ = e.consume(record) }()
	<-held.arrived
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := e.proc.ConsumeLogs(ctx, toLogs(t, record))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	held.answer <- nil
}

// A claim left unconfirmed by a process that stopped (a crash between
// writing it and the pipeline's answer) holds its record: only that record,
// delivered again (here the log stream's record of the Action's login), is
// the SignUp; the signup record is untagged, and a restart after the
// confirmation makes nothing a SignUp again.
func TestDoubtfulClaimAfterACrash(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|d", map[string]any{})
	// What the crashed process left: the Action's claim, written ahead
	// with its update reservation, never confirmed.
	e.writeStorage(
		storage.SetOperation(userKey("auth0|d"), []byte(`{"s":true,"k":true,"r":"action-uuid","l":"auth0|d#1","a":true}`)),
		storage.SetOperation(updateKey(0), []byte("auth0|d")),
		storage.SetOperation(keyUpdateTail, []byte("1")),
	)
	e.start(e.config())
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "10", Type: "ss", UserID: "auth0|d"},
		ev{LogID: "11", UserID: "auth0|d", LoginsCount: 1},
		ev{LogID: "12", UserID: "auth0|d", LoginsCount: 2},
	)))
	assert.Equal(t, []tag{
		{"auth0|d", "", "", "10"},
		{"auth0|d", "SignUp", basisStore, "11"},
		{"auth0|d", "Login", basisStore, "12"},
	}, e.tags())
	e.waitPatched("auth0|d")
	// The resumed update marks the user; the redelivery reserves one of its
	// own unless the resumed one is still queued. Marking is at least once:
	// a second signedUp: true changes nothing in Auth0.
	assert.Contains(t, []int{1, 2}, e.patches()["auth0|d"], "PATCHes: %v", e.patches())
	assert.Equal(t, int64(1), e.recordsCounted(outcomeSignUpRedelivery), "the redelivered SignUp is counted apart")

	// Confirmed now: the same records again are delivered copies.
	e.stop()
	e.start(e.config())
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "10", Type: "ss", UserID: "auth0|d"}, ev{LogID: "11", UserID: "auth0|d", LoginsCount: 1})))
	assert.Equal(t, map[string]int{"auth0|d": 1}, e.countEvents("SignUp"))
}

// The Action's payload and the log stream's record of one first login are
// one login: one SignUp, the other copy dropped.
func TestActionAndStreamOfOneLogin(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|p", map[string]any{})
	e.start(e.config())
	action := auth0test.ActionEvent{EventID: "evt-1", UserID: "auth0|p", LoginsCount: 1, AppMetadata: map[string]any{}}.JSON()
	require.NoError(t, e.consume(action))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "20", UserID: "auth0|p", LoginsCount: 1})))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "21", UserID: "auth0|p", LoginsCount: 2})))
	assert.Equal(t, []tag{
		{"auth0|p", "SignUp", basisAppMetadata, "evt-1"},
		{"auth0|p", "Login", basisStore, "21"},
	}, e.tags())
}

// A later login delivered before the signup (records out of order) does
// not cost the SignUp: the signup record that follows is the SignUp.
func TestSignupAfterALaterLogin(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Lookups.Enabled = false
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "32", UserID: "auth0|o", LoginsCount: 2})))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "30", Type: "ss", UserID: "auth0|o"}, ev{LogID: "31", UserID: "auth0|o", LoginsCount: 1})))
	assert.Equal(t, []tag{
		{"auth0|o", "Login", basisLoginsCount, "32"},
		{"auth0|o", "SignUp", basisSignupType, "30"},
		{"auth0|o", "Login", basisStore, "31"},
	}, e.tags())
}

// A doubtful claim is never handed to another record: the user's other
// login is a Login, and the claimed record, refused again and delivered
// after a restart, is the SignUp.
func TestDoubtfulClaimKeepsItsRecord(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|r", map[string]any{})
	e.writeStorage(storage.SetOperation(userKey("auth0|r"), []byte(`{"s":true,"k":true,"r":"18"}`)))
	cfg := e.config()
	cfg.Lookups.Enabled = false
	e.start(cfg)
	e.next.setErr(errors.New("sending queue is full"))
	require.Error(t, e.consume(auth0test.Lines(ev{LogID: "18", Type: "ss", UserID: "auth0|r"})))
	e.next.setErr(nil)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "19", UserID: "auth0|r", LoginsCount: 1})))
	e.stop()

	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "18", Type: "ss", UserID: "auth0|r"})))
	assert.Equal(t, []tag{{"auth0|r", "Login", basisStore, "19"}, {"auth0|r", "SignUp", basisStore, "18"}}, e.tags())
	e.waitPatched("auth0|r")
	assert.Equal(t, map[string]int{"auth0|r": 1}, e.patches())
}

// A record taken in long ago (it waited in a queue) that would make a
// SignUp of a user this store does not know is checked with Auth0 first:
// another collector may have counted and marked the user meanwhile. A fresh one is not.
func TestStaleSignUpRecordsAreCheckedFirst(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|moved", map[string]any{"signedUp": true})
	e.fake.AddUser("auth0|fresh", map[string]any{})
	e.start(e.config())
	waited := time.Now().Add(-time.Minute)
	require.NoError(t, e.proc.ConsumeLogs(context.Background(), toLogsObserved(t, waited, auth0test.Lines(
		ev{LogID: "40", Type: "ss", UserID: "auth0|moved"},
		ev{LogID: "41", UserID: "auth0|moved", LoginsCount: 1},
	))))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "42", Type: "ss", UserID: "auth0|fresh"})))
	assert.Equal(t, []tag{
		{"auth0|moved", "", "", "40"},
		{"auth0|moved", "Login", basisStore, "41"},
		{"auth0|fresh", "SignUp", basisSignupType, "42"},
	}, e.tags())
	assert.Len(t, e.fake.Requests(http.MethodGet, "/api/v2/users/auth0|moved"), 1)
	assert.Empty(t, e.fake.Requests(http.MethodGet, "/api/v2/users/auth0|fresh"), "a fresh signup record is decided without asking")
}
