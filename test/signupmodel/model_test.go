// Package signupmodel checks the SignUp invariants of the real receiver and
// signup processor against a model, over generated histories: the same
// records through the log stream, the Action and pull mode, copies in
// flight at once and out of order, refusals and storage errors followed by
// retries, crashes at any storage operation or exporter accept and
// restarts on the same storage.
//
// The invariants, checked after every history:
//   - nothing lost: every record a sender was told was accepted (and every
//     record pull mode read) reached the exporter, itself or, for the
//     SignUp's login, its twin from the other source;
//   - each new user whose signup or first login was accepted has exactly
//     one SignUp at the exporter, and one more only for each crash that
//     fell between the exporter taking their SignUp and the processor
//     recording it (claims.go's one window);
//   - no returning user gets a SignUp;
//   - Auth0 applied exactly one app_metadata update to each new user with a
//     SignUp (at most one when that SignUp fell in the crash window: the
//     user's next record settles it), and none to anyone else.
//
// SIGNUP_MODEL_HISTORIES sets how many histories run (make test runs a few,
// make reliability many); SIGNUP_MODEL_SEED replays one.
package signupmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

const defaultHistories = 30

func TestExactlyOnceSignUp(t *testing.T) {
	seeds := seedsToRun(t)
	var stats struct {
		sync.Mutex
		runs, crashes, windows, signups, records int
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := generate(seed)
			w := newWorld(t, s)
			w.play()
			if failed := w.check(); len(failed) > 0 {
				t.Log(s.describe())
				t.Log("what happened:\n  " + strings.Join(w.trace.without(": storage "), "\n  "))
				for _, u := range failed {
					t.Log(w.story(u))
				}
			}
			stats.Lock()
			defer stats.Unlock()
			stats.runs += len(s.incarnations)
			stats.crashes += len(s.incarnations) - 1
			for _, n := range w.exported.windows {
				stats.windows += n
			}
			for _, x := range w.exported.records {
				stats.records++
				if x.event == auth0event.EventSignUp {
					stats.signups++
				}
			}
		})
	}
	t.Logf("figures: %d histories, %d collector runs, %d crashes, %d records and %d SignUps at the exporter, %d SignUps left in the crash window",
		len(seeds), stats.runs, stats.crashes, stats.records, stats.signups, stats.windows)
}

func seedsToRun(t *testing.T) []uint64 {
	if v := os.Getenv("SIGNUP_MODEL_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SIGNUP_MODEL_SEED=%q is not a number", v)
		}
		return []uint64{seed}
	}
	n := defaultHistories
	if v := os.Getenv("SIGNUP_MODEL_HISTORIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("SIGNUP_MODEL_HISTORIES=%q is not a positive number", v)
		}
	}
	// A new set of histories each run, printed for replay.
	first := uint64(time.Now().UnixNano() % 1e9)
	t.Logf("histories from seed %d to %d", first, first+uint64(n)-1)
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = first + uint64(i)
	}
	return seeds
}

// acks is what the senders were told was accepted.
type acks struct {
	mu  sync.Mutex
	ids map[string]record
}

func (a *acks) add(rs ...record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = map[string]record{}
	}
	for _, r := range rs {
		a.ids[r.id] = r
	}
}

// play runs the history: the senders from the start, each run of the
// collector until its crash, the last one until everything was sent,
// pulled and marked.
func (w *world) play() {
	s := w.scenario
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	var acked acks
	var senders sync.WaitGroup
	defer func() {
		cancel()
		senders.Wait()
	}()
	for i, f := range s.incarnations {
		r := w.start(i+1, f)
		if i == 0 {
			w.send(ctx, &acked, &senders)
		}
		if i < len(s.incarnations)-1 {
			select {
			case <-r.crashed:
			case <-time.After(time.Second):
				r.crash("after a second")
			case <-ctx.Done():
			}
			r.teardown()
			continue
		}
		senders.Wait()
		w.waitFor(ctx, "pull mode to read every record", w.pulledAll)
		w.waitFor(ctx, "the updates of every SignUp", w.updatesDone)
		r.stop()
	}
	w.acked = acked.ids
}

func (w *world) waitFor(ctx context.Context, what string, done func() bool) {
	for !done() {
		select {
		case <-ctx.Done():
			w.t.Errorf("gave up waiting for %s", what)
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// send starts the senders: the log stream (a few batches in flight, each
// sent until accepted, as Auth0 does) and the Action (each post tried
// once or twice).
func (w *world) send(ctx context.Context, acked *acks, wg *sync.WaitGroup) {
	s := w.scenario
	batches := make(chan []record, len(s.batches))
	for _, b := range s.batches {
		batches <- b
	}
	close(batches)
	client := &http.Client{Timeout: 5 * time.Second}
	for range s.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleep(ctx, s.streamDelay) {
				return
			}
			for b := range batches {
				events := make([]auth0test.Event, len(b))
				for i, r := range b {
					events[i] = r.event()
				}
				body := auth0test.Lines(events...)
				for {
					if w.post(client, "/auth0/logs", body) {
						acked.add(b...)
						break
					}
					if !sleep(ctx, 20*time.Millisecond) {
						if errors.Is(ctx.Err(), context.DeadlineExceeded) {
							w.t.Errorf("a stream batch was never accepted: %v", b)
						}
						return
					}
				}
			}
		}()
	}
	actions := make(chan record, len(s.actions))
	for _, a := range s.actions {
		actions <- a
	}
	close(actions)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range actions {
				for attempt := range a.attempts {
					if w.post(client, "/auth0/actions", w.actionPayload(a)) {
						acked.add(a)
						break
					}
					if attempt < a.attempts-1 && !sleep(ctx, 20*time.Millisecond) {
						return
					}
				}
			}
		}()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (w *world) post(client *http.Client, path string, body []byte) bool {
	req, err := http.NewRequest(http.MethodPost, "http://"+w.addr+path, bytes.NewReader(body))
	if err != nil {
		w.t.Error(err)
		return false
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var answer struct {
		Rejected int `json:"rejected"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode == http.StatusOK && answer.Rejected > 0 {
		w.t.Errorf("%s rejected %d of the model's records", path, answer.Rejected)
	}
	return resp.StatusCode == http.StatusOK
}

// actionPayload is what the post-login Action posts at this moment: the
// user's app_metadata as Auth0 holds it now.
func (w *world) actionPayload(a record) []byte {
	md := map[string]any{}
	if v, ok := w.fake.AppMetadata(a.user)["signedUp"]; ok {
		md["signedUp"] = v
	}
	body, _ := json.Marshal(map[string]any{
		"schema_version": 1,
		"event_id":       a.id,
		"timestamp":      "2026-11-20T08:13:25.118Z",
		"user":           map[string]any{"user_id": a.user, "app_metadata": md},
		"client":         map[string]any{"name": "Storefront"},
		"stats":          map[string]any{"logins_count": a.logins},
	})
	return body
}

func (w *world) pulledAll() bool {
	if w.scenario.pulled == nil {
		return true
	}
	ids := w.exportedIDs()
	for _, r := range w.scenario.pulled {
		if !ids[r.id] && !w.twinExported(r) {
			return false
		}
	}
	return true
}

// updatesDone: every user with a SignUp at the exporter that the collector
// knows was delivered is marked in Auth0.
func (w *world) updatesDone() bool {
	for user, n := range w.signups() {
		if n <= w.windows(user) {
			continue
		}
		if marked, _ := w.fake.AppMetadata(user)["signedUp"].(bool); !marked {
			return false
		}
	}
	return true
}

func (w *world) windows(user string) int {
	w.exported.mu.Lock()
	defer w.exported.mu.Unlock()
	return w.exported.windows[user]
}

func (w *world) exportedIDs() map[string]bool {
	w.exported.mu.Lock()
	defer w.exported.mu.Unlock()
	ids := map[string]bool{}
	for _, x := range w.exported.records {
		ids[x.id] = true
	}
	return ids
}

// twinExported: the record's login reached the exporter from the other
// source (the processor drops the twin of a SignUp's login).
func (w *world) twinExported(r record) bool {
	login := r.login()
	if login == "" {
		return false
	}
	w.exported.mu.Lock()
	defer w.exported.mu.Unlock()
	for _, x := range w.exported.records {
		if x.login == login && x.action != r.action {
			return true
		}
	}
	return false
}

func (w *world) signups() map[string]int {
	w.exported.mu.Lock()
	defer w.exported.mu.Unlock()
	n := map[string]int{}
	for _, x := range w.exported.records {
		if x.event == auth0event.EventSignUp {
			n[x.user]++
		}
	}
	return n
}

// check verifies the invariants, reports each violation and returns the
// users they concern.
func (w *world) check() []string {
	t := w.t
	var failed []string
	fail := func(format string, args ...any) {
		if len(args) > 0 {
			if r, ok := args[0].(record); ok {
				failed = append(failed, r.user)
			} else if u, ok := args[0].(string); ok {
				failed = append(failed, u)
			}
		}
		t.Errorf(format, args...)
	}

	ids := w.exportedIDs()
	for _, r := range w.acked {
		if !ids[r.id] && !w.twinExported(r) {
			fail("lost: %s was accepted but never reached the exporter", r)
		}
	}
	for _, r := range w.scenario.pulled {
		if !ids[r.id] && !w.twinExported(r) {
			fail("lost: %s was read by pull mode but never reached the exporter", r)
		}
	}

	signups := w.signups()
	patches := map[string]int{}
	for _, req := range w.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if req.Status == http.StatusOK {
			patches[req.UserID]++
		}
	}
	for _, u := range w.scenario.users {
		n := signups[u.id]
		window := w.exported.windows[u.id]
		switch {
		case u.returning && n > 0:
			fail("returning user %s got %d SignUps", u.id, n)
		case n > 1+window:
			fail("user %s got %d SignUps (crash windows: %d)", u.id, n, window)
		case n == 0 && w.signupAccepted(u.id):
			fail("user %s's signup was accepted but no SignUp reached the exporter", u.id)
		}
		switch {
		case n > 0 && n <= window && patches[u.id] > 1:
			// Every SignUp in the crash window: the collector does not know
			// it was delivered, and marks the user once their next record
			// settles it (or never, without one).
			fail("user %s has %d SignUps in the crash window and %d app_metadata updates, want at most 1", u.id, n, patches[u.id])
		case n > window && patches[u.id] != 1:
			fail("user %s has %d SignUps and %d app_metadata updates, want 1", u.id, n, patches[u.id])
		case n == 0 && patches[u.id] != 0:
			fail("user %s has no SignUp but %d app_metadata updates", u.id, patches[u.id])
		}
	}
	return failed
}

// story is what the exporter and Auth0 saw of one user.
func (w *world) story(user string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "user %s at the exporter:", user)
	w.exported.mu.Lock()
	for _, x := range w.exported.records {
		if x.user == user {
			fmt.Fprintf(&b, "\n  run %d: %s %s login=%s action=%v", x.run, x.id, x.event, x.login, x.action)
		}
	}
	w.exported.mu.Unlock()
	fmt.Fprintf(&b, "\nuser %s in the trace:", user)
	w.trace.mu.Lock()
	for _, line := range w.trace.lines {
		if strings.Contains(line, user+"=") || strings.Contains(line, user+" ") || strings.Contains(line, user+":") || strings.HasSuffix(line, user) ||
			strings.Contains(line, "update/head") || strings.Contains(line, "update/tail") {
			fmt.Fprintf(&b, "\n  %s", line)
		}
	}
	w.trace.mu.Unlock()
	fmt.Fprintf(&b, "\nuser %s at Auth0:", user)
	for _, req := range w.fake.Requests("", "/api/v2/users/") {
		if req.UserID == user {
			fmt.Fprintf(&b, "\n  %s %s %d", req.At.Format("15:04:05.000"), req.Method, req.Status)
		}
	}
	return b.String()
}

// signupAccepted: a record that makes the user's SignUp (their signup
// record or a first login) was accepted or pulled.
func (w *world) signupAccepted(user string) bool {
	first := func(r record) bool { return r.user == user && (r.typ == "ss" || r.logins == 1) }
	for _, r := range w.acked {
		if first(r) {
			return true
		}
	}
	for _, r := range w.scenario.pulled {
		if first(r) {
			return true
		}
	}
	return false
}
