// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package signupmodel checks the SignUp invariants of the real receiver and
// signup processor against a model, over generated histories: the same
// records through the log stream, the Action and pull mode, copies in
// flight at once and out of order, refusals and storage errors followed by
// retries, crashes at any storage operation or exporter accept and
// restarts on the same storage. Some histories run two collector
// processes, each with its own storage, sharing one real redis-server for
// their claims: every request goes to either (some to both at once), either
// crashes at any point, and the server is killed and started again on its
// data while they run.
//
// Every sender delivers again what was not accepted, as Auth0's do: the log
// stream retries a batch, pull mode rereads from its checkpoint, the Action
// retries its post (with the same payload). The processor's rule rests on
// it: a claim left doubtful by a crash makes a SignUp only of the record
// that holds it, when that record comes again.
//
// The invariants, checked after every history:
//   - nothing lost: every record a sender was told was accepted (and every
//     record pull mode read) reached the exporter, itself or, for the
//     SignUp's login, its twin from the other source;
//   - each new user whose signup or first login was accepted has exactly
//     one SignUp decision: one record tagged SignUp, however often it
//     reached the exporter (the same id again, or the same login through
//     the other source, is a redelivery of that decision, counted apart);
//     a second record tagged SignUp fails the history, crashes or not;
//   - no returning user gets a SignUp;
//   - Auth0 applied exactly one app_metadata update to each new user with a
//     SignUp, and none to anyone else. A second update is allowed only
//     from a later run of a process whose run that wrote the user's claim
//     crashed: that run may have sent or queued the update without
//     recording it, and an update is idempotent.
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

const defaultHistories = 40

// figures sums what the histories did, for the line the test ends with.
type figures struct {
	sync.Mutex
	histories, shared, runs, crashes, outages int
	records, signups, redeliveries, second    int
	windows, refused, refusedDown             int
	updates, repeatedUpdates                  int
	loginsRegistered                          int
}

func TestExactlyOnceSignUp(t *testing.T) {
	playHistories(t, generate, seedsToRun(t, 1))
}

// TestExactlyOnceSignUpOfUsersKnownByCount plays a quarter as many
// histories whose users are mostly known by their logins counts (their
// lookups fail) and looked up again later.
func TestExactlyOnceSignUpOfUsersKnownByCount(t *testing.T) {
	playHistories(t, generateKnownByCount, seedsToRun(t, 4))
}

func playHistories(t *testing.T, generate func(seed uint64) *scenario, seeds []uint64) {
	var f figures
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := generate(seed)
			s.family = strings.SplitN(t.Name(), "/", 2)[0]
			w := newWorld(t, s)
			w.play()
			failed, sum := w.check()
			w.report(failed, sum)
			f.Lock()
			defer f.Unlock()
			f.histories++
			if s.shared() {
				f.shared++
			}
			f.runs += s.runs()
			f.crashes += s.runs() - len(s.processes)
			f.outages += len(s.outages)
			for _, n := range w.exported.windows {
				f.windows += n
			}
			f.records += len(w.exported.records)
			f.signups += sum.signups
			f.redeliveries += sum.redeliveries
			f.second += sum.second
			f.updates += sum.updates
			f.repeatedUpdates += sum.repeatedUpdates
			f.loginsRegistered += sum.loginsRegistered
			f.refused += int(w.refused.Load())
			f.refusedDown += int(w.refusedDown.Load())
		})
	}
	t.Logf("figures: %d histories (%d of two processes sharing a redis-server, %d Redis outages), %d collector runs, %d crashes; "+
		"%d records and %d SignUps at the exporter, %d of them redeliveries of a user's SignUp record, %d SignUps left doubtful by a crash; "+
		"%d second SignUp decisions; %d records registered in Redis as Logins decided for want of an answer; "+
		"%d requests refused or unanswered and sent again (%d while Redis was down); %d app_metadata updates, %d repeated after a crash or a lapsed lease",
		f.histories, f.shared, f.outages, f.runs, f.crashes, f.records, f.signups, f.redeliveries, f.windows, f.second, f.loginsRegistered, f.refused, f.refusedDown, f.updates, f.repeatedUpdates)
}

// seedsToRun lists the seeds of SIGNUP_MODEL_HISTORIES histories, or a
// share of them (at least one).
func seedsToRun(t *testing.T, share int) []uint64 {
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
	n = max(1, n/share)
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

// play runs the history: every process's runs, each until its crash and
// the last until everything was sent, pulled and marked; the senders from
// the start; the redis-server's outages on the test's goroutine.
func (w *world) play() {
	s := w.scenario
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	var acked acks
	var senders, processes sync.WaitGroup
	defer func() {
		cancel()
		senders.Wait()
		processes.Wait()
	}()
	started := time.Now()
	last := make([]*run, len(w.processes))
	for i, p := range w.processes {
		first, err := w.start(p, 1, s.processes[i][0])
		if err != nil {
			w.t.Errorf("starting %s: %v", runLabel(s, i, 1), err)
			return
		}
		processes.Add(1)
		go func() {
			defer processes.Done()
			last[i] = w.live(ctx, p, first)
		}()
	}
	w.send(ctx, &acked, &senders)
	for _, o := range s.outages {
		if !sleep(ctx, time.Until(started.Add(o.at))) {
			break
		}
		w.redis.Kill()
		down := time.Now()
		w.redisDown.Store(true)
		w.trace.add("redis-server killed")
		sleep(ctx, o.down)
		w.redis.Restart()
		w.redisDown.Store(false)
		w.redisWasDown(down, time.Now())
		w.trace.add("redis-server started again")
	}
	processes.Wait()
	senders.Wait()
	w.waitFor(ctx, "pull mode to read every record", w.pulledAll)
	// Every update is due within moments of its SignUp (the Management API
	// fails only a few calls at the start of a run): a history that lost
	// one fails in seconds, not at the deadline.
	updates, cancelUpdates := context.WithTimeout(ctx, 10*time.Second)
	w.waitFor(updates, "the updates of every SignUp", w.updatesDone)
	cancelUpdates()
	for _, r := range last {
		if r != nil {
			r.stop()
		}
	}
	w.acked = acked.ids
}

// live runs a process from its first run: each run but the last until
// its crash (or a second), then the next on the same storage. It returns
// the last run, still up.
func (w *world) live(ctx context.Context, p *process, r *run) *run {
	runs := w.scenario.processes[p.index]
	for n := 2; n <= len(runs); n++ {
		select {
		case <-r.crashed:
		case <-time.After(time.Second):
			r.crash("after a second")
		case <-ctx.Done():
		}
		r.teardown()
		var err error
		if r, err = w.start(p, n, runs[n-1]); err != nil {
			w.t.Errorf("starting %s: %v", runLabel(w.scenario, p.index, n), err)
			return nil
		}
	}
	return r
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
// sent until accepted, as Auth0 does) and the Action (each post sent until
// accepted). Every request goes to a process at random; with two, some
// stream requests go to both at once.
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
				if !w.deliver(ctx, client, "/auth0/logs", body, w.chance(s.hedged)) {
					if errors.Is(ctx.Err(), context.DeadlineExceeded) {
						w.t.Errorf("a stream batch was never accepted: %v", b)
					}
					return
				}
				acked.add(b...)
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
				// Every attempt posts what the first did: the same record.
				if !w.deliver(ctx, client, "/auth0/actions", w.actionPayload(a), false) {
					if errors.Is(ctx.Err(), context.DeadlineExceeded) {
						w.t.Errorf("an Action post was never accepted: %v", a)
					}
					return
				}
				acked.add(a)
			}
		}()
	}
}

// deliver posts the body until a process accepts it; both says to post
// each attempt to every process at once (accepted when one accepts).
func (w *world) deliver(ctx context.Context, client *http.Client, path string, body []byte, both bool) bool {
	for {
		var accepted atomic.Bool
		if both && len(w.processes) > 1 {
			var wg sync.WaitGroup
			for _, p := range w.processes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if w.post(client, p, path, body) {
						accepted.Store(true)
					}
				}()
			}
			wg.Wait()
		} else if w.post(client, w.anyProcess(), path, body) {
			accepted.Store(true)
		}
		if accepted.Load() {
			return true
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return false
		}
	}
}

func (w *world) anyProcess() *process {
	if len(w.processes) == 1 {
		return w.processes[0]
	}
	w.rngMu.Lock()
	defer w.rngMu.Unlock()
	return w.processes[w.rng.IntN(len(w.processes))]
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (w *world) post(client *http.Client, p *process, path string, body []byte) bool {
	req, err := http.NewRequest(http.MethodPost, "http://"+p.address()+path, bytes.NewReader(body))
	if err != nil {
		w.t.Error(err)
		return false
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		w.countRefused()
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
	if resp.StatusCode != http.StatusOK {
		w.countRefused()
	}
	return resp.StatusCode == http.StatusOK
}

func (w *world) countRefused() {
	w.refused.Add(1)
	if w.redisDown.Load() {
		w.refusedDown.Add(1)
	}
}

// actionPayload is what the post-login Action posts: the user's
// app_metadata as Auth0 holds it when the Action first runs.
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

// updatesDone: every user with a SignUp at the exporter is marked in
// Auth0 (every SignUp is confirmed in the end: its record is delivered
// again until it is).
func (w *world) updatesDone() bool {
	for user := range w.decisions() {
		if marked, _ := w.fake.AppMetadata(user)["signedUp"].(bool); !marked {
			return false
		}
	}
	return true
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

// decisions lists, per user, the SignUp decisions at the exporter: the
// distinct records tagged SignUp, a record delivered again counting once,
// and a login's Action payload and log stream record counting as one
// record (the processor's copyOf). Each holds how often it was tagged.
func (w *world) decisions() map[string]map[string]int {
	w.exported.mu.Lock()
	defer w.exported.mu.Unlock()
	out := map[string]map[string]int{}
	for _, x := range w.exported.records {
		if x.event != auth0event.EventSignUp {
			continue
		}
		record := x.id
		if x.login != "" {
			record = "login " + x.login
		}
		if out[x.user] == nil {
			out[x.user] = map[string]int{}
		}
		out[x.user][record]++
	}
	return out
}

// summary is what check counted of one history.
type summary struct {
	signups, redeliveries, second int
	updates, repeatedUpdates      int
	loginsRegistered              int
}

// check verifies the invariants, reports each violation, and returns the
// users they concern and the history's figures.
func (w *world) check() ([]string, summary) {
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

	var sum summary
	decisions := w.decisions()
	patches := map[string]int{}
	for _, req := range w.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if req.Status == http.StatusOK {
			patches[req.UserID]++
		}
	}
	for _, u := range w.scenario.users {
		n := 0
		for _, times := range decisions[u.id] {
			n += times
			sum.signups += times
			sum.redeliveries += times - 1
		}
		if d := len(decisions[u.id]); d > 1 {
			sum.second += d - 1
		}
		switch {
		case u.returning && n > 0:
			fail("returning user %s got %d SignUps", u.id, n)
		case len(decisions[u.id]) > 1:
			fail("user %s got %d SignUp decisions, want 1 (a record and its redeliveries): %v", u.id, len(decisions[u.id]), decisions[u.id])
		case n == 0 && w.signupAccepted(u.id):
			fail("user %s's signup was accepted but no SignUp reached the exporter", u.id)
		}
		// One update per new user with a SignUp. A second one is an
		// at-least-once update, allowed only when a later run resumed
		// what a crashed run of its process left, or another replica took
		// over an update whose lease ran out while Redis was down
		// (unresumedUpdates): updates are idempotent, and a queue that
		// resumes unconfirmed updates without reading first repeats one
		// then.
		p := patches[u.id]
		sum.updates += p
		if seen := w.patchesSeen(u.id); seen != p {
			fail("user %s: Auth0 applied %d app_metadata updates, the runs' proxies saw %d", u.id, p, seen)
		}
		switch {
		case n > 0 && p == 0:
			fail("user %s has a SignUp and no app_metadata update", u.id)
		case n > 0 && p > 1 && w.unresumedUpdates(u.id) > 0:
			fail("user %s has %d app_metadata updates, %d more than 1 that no crash or lapsed lease explains", u.id, p, w.unresumedUpdates(u.id))
		case n > 0 && p > 1:
			sum.repeatedUpdates += p - 1
		case n == 0 && p != 0:
			fail("user %s has no SignUp but %d app_metadata updates", u.id, p)
		}
	}
	sum.loginsRegistered = w.loginsRegistered()
	return failed, sum
}

// report prints what a failed check concerns: the history with its
// replay line, the trace, each failed user's story. It lives in this file
// because make reliability keeps only this file's lines of the output.
func (w *world) report(failed []string, _ summary) {
	if len(failed) == 0 {
		return
	}
	w.t.Log(w.scenario.describe())
	w.t.Log("what happened:\n  " + strings.Join(w.trace.without(": storage "), "\n  "))
	for _, u := range failed {
		w.t.Log(w.story(u))
	}
}

// story is what the exporter and Auth0 saw of one user.
func (w *world) story(user string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "user %s at the exporter:", user)
	w.exported.mu.Lock()
	for _, x := range w.exported.records {
		if x.user == user {
			fmt.Fprintf(&b, "\n  %s: %s %s login=%s action=%v", x.run, x.id, x.event, x.login, x.action)
		}
	}
	w.exported.mu.Unlock()
	fmt.Fprintf(&b, "\nuser %s in the trace:", user)
	w.trace.mu.Lock()
	for _, line := range w.trace.lines {
		if strings.Contains(line, user+"=") || strings.Contains(line, user+" ") || strings.Contains(line, user+":") || strings.HasSuffix(line, user) ||
			strings.Contains(line, "update/head") || strings.Contains(line, "update/tail") || strings.Contains(line, "redis-server") {
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

// loginsRegistered counts the records a replica registered in Redis as
// Logins decided for want of an answer, so that no other replica makes
// them the SignUp: how often the histories met that case.
func (w *world) loginsRegistered() int {
	if w.redis == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := w.redis.Client()
	defer client.Close()
	keys, err := client.Keys(ctx, "otelcol-auth0:{"+w.domain+"}:login:*").Result()
	if err != nil {
		w.t.Errorf("counting the Logins registered in Redis: %v", err)
		return 0
	}
	return len(keys)
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
