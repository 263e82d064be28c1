// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupmodel

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// scenario is one generated history: who the users are, what Auth0 sends
// about them through which way in, and what goes wrong on the way.
type scenario struct {
	seed uint64
	// test names the test that wrote the history by hand (empty for a
	// generated one).
	test string
	// family names the test that generated the history.
	family string
	users  []user
	// batches are the log stream's requests, each sent until accepted
	// (Auth0 retries); a record may be in several (redeliveries).
	batches [][]record
	// actions are the post-login Action's posts, each posted with the
	// same payload until accepted: the processor's rule needs every
	// unanswered record delivered again (the Action retries once; the
	// model's goes on until one attempt is accepted).
	actions []record
	// pulled are the log API's events, read by pull mode (nil: off).
	pulled []record
	// streams is how many batches are in flight at once, and streamDelay
	// how long after the Action's first posts the log stream begins (Auth0
	// delivers the stream seconds after the logins).
	streams     int
	streamDelay time.Duration
	// processes are the collector instances, each its own receiver,
	// processor and file storage, and each a list of runs: all but the
	// last end in a crash. Two share one redis-server for their claims;
	// every request goes to either, at random.
	processes [][]faults
	// outages kill the redis-server (two processes) and start it again on
	// its data.
	outages []outage
	// hedged is the share of stream requests sent to both processes at
	// once, as a sender does that gave up waiting on one replica.
	hedged float64
	// recheckAfter is the processors' lookups.recheck_by_count_after (0:
	// the default, which no history lasts): a millisecond looks a user
	// known by a count up again on nearly each of their logins.
	recheckAfter time.Duration
	// lookupFailures is the share of lookups the Management API answers
	// with 503 (each pausing lookups for the cooldown): users then become
	// known by a logins count.
	lookupFailures float64
}

// outage kills the redis-server at this long after the history starts,
// and starts it again down later.
type outage struct {
	at, down time.Duration
}

func (s *scenario) shared() bool { return len(s.processes) > 1 }

// runs counts the collector runs of every process.
func (s *scenario) runs() int {
	n := 0
	for _, p := range s.processes {
		n += len(p)
	}
	return n
}

type user struct {
	id string
	// returning users were marked signed up in Auth0 before the history.
	returning bool
}

// record is one Auth0 record of a login or signup.
type record struct {
	id     string // log_id, or the Action's event_id
	user   string
	typ    string // "ss", "s"
	logins int    // logins count carried; 0 for none
	action bool
}

// login is the key pairing the stream's and the Action's record of one
// login (the processor's pairing).
func (r record) login() string {
	if r.logins == 0 || r.typ != "s" {
		return ""
	}
	return fmt.Sprintf("%s#%d", r.user, r.logins)
}

// faults is what goes wrong in one collector run. A crash stops the run at
// a storage operation or an accept by the exporter, before or after it.
type faults struct {
	crashAtStorageOp int // 0: none
	crashAtAccept    int // 0: none
	crashAtClaim     int // 0: none; after the write of the n-th SignUp claim
	crashAfter       bool
	storageErrorRate float64
	refuseRate       float64
	apiFailures      int // Management API calls answered 503 at the start of the run
}

func (f faults) String() string {
	var parts []string
	switch {
	case f.crashAtStorageOp > 0:
		parts = append(parts, fmt.Sprintf("crash %s storage operation %d", beforeAfter(f.crashAfter), f.crashAtStorageOp))
	case f.crashAtAccept > 0:
		parts = append(parts, fmt.Sprintf("crash %s the exporter's accept %d", beforeAfter(f.crashAfter), f.crashAtAccept))
	case f.crashAtClaim > 0:
		parts = append(parts, fmt.Sprintf("crash after the write of SignUp claim %d", f.crashAtClaim))
	}
	if f.storageErrorRate > 0 {
		parts = append(parts, fmt.Sprintf("storage errors %.0f%%", 100*f.storageErrorRate))
	}
	if f.refuseRate > 0 {
		parts = append(parts, fmt.Sprintf("exporter refusals %.0f%%", 100*f.refuseRate))
	}
	if f.apiFailures > 0 {
		parts = append(parts, fmt.Sprintf("%d Management API 503s", f.apiFailures))
	}
	if len(parts) == 0 {
		return "no faults"
	}
	return strings.Join(parts, ", ")
}

func beforeAfter(after bool) string {
	if after {
		return "after"
	}
	return "before"
}

// generate makes the history of a seed.
func generate(seed uint64) *scenario {
	return generateShaped(seed, shape{logins: 3, actions: true})
}

// shape is what generateShaped varies: how many logins a user has at most,
// and whether the Action posts them too.
type shape struct {
	logins  int
	actions bool
}

// generateKnownByCount makes a history whose users are mostly known by
// their logins counts and looked up again: many logins each, no Action
// telling about them, half the lookups failing. With two processes that
// makes the known limit of one record decided two ways on two replicas
// common (check counts it apart).
func generateKnownByCount(seed uint64) *scenario {
	s := generateShaped(seed, shape{logins: 8})
	s.lookupFailures = 0.5
	s.recheckAfter = [...]time.Duration{time.Millisecond, 50 * time.Millisecond}[seed%2]
	return s
}

func generateShaped(seed uint64, sh shape) *scenario {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	s := &scenario{seed: seed, streams: 1 + rng.IntN(3), streamDelay: time.Duration(rng.IntN(300)) * time.Millisecond}
	nUsers := 3 + rng.IntN(25)
	var stream []record
	logSeq := 0
	nextLogID := func() string {
		logSeq++
		// Log ids sort by time, as Auth0's do.
		return fmt.Sprintf("9002026112008%013d%024d", seed%1e13, logSeq)
	}
	for u := range nUsers {
		usr := user{id: fmt.Sprintf("auth0|s%d-u%d", seed, u), returning: rng.IntN(3) == 0}
		s.users = append(s.users, usr)
		first, logins := 1, 1+rng.IntN(sh.logins)
		if usr.returning {
			first = 2 + rng.IntN(20)
		}
		if !usr.returning && rng.IntN(2) == 0 {
			// A database signup: "ss" before the first login.
			stream = append(stream, record{id: nextLogID(), user: usr.id, typ: "ss"})
		}
		for n := first; n < first+logins; n++ {
			count := n
			if rng.IntN(5) == 0 {
				count = 0 // SSO or silent auth: the stream carries no count
			}
			if rng.IntN(4) != 0 {
				stream = append(stream, record{id: nextLogID(), user: usr.id, typ: "s", logins: count})
			}
			if rng.IntN(2) == 0 && sh.actions {
				s.actions = append(s.actions, record{id: fmt.Sprintf("action-%d-%s-%d", seed, usr.id, n), user: usr.id, typ: "s", logins: n, action: true})
			}
		}
	}
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	rng.Shuffle(len(s.actions), func(i, j int) { s.actions[i], s.actions[j] = s.actions[j], s.actions[i] })

	// Batches of 1-5 records; some records are delivered again in a later
	// batch, as Auth0 does after a timeout.
	for i := 0; i < len(stream); {
		n := min(1+rng.IntN(5), len(stream)-i)
		b := append([]record(nil), stream[i:i+n]...)
		i += n
		if len(s.batches) > 0 && rng.IntN(3) == 0 {
			prev := s.batches[rng.IntN(len(s.batches))]
			b = append(b, prev[rng.IntN(len(prev))])
		}
		s.batches = append(s.batches, b)
		if rng.IntN(4) == 0 {
			// Sent again while the first is in flight, as Auth0 does when
			// an answer is late: two streams pick them up at once.
			s.batches = append(s.batches, b)
		}
	}
	if rng.IntN(3) == 0 {
		s.pulled = append([]record(nil), stream...)
	}

	processes := 1
	if rng.IntN(sharedOneIn) == 0 {
		processes = 2
		s.hedged = 0.25 * float64(rng.IntN(2))
		at := time.Duration(0)
		for range rng.IntN(3) {
			at += time.Duration(50+rng.IntN(600)) * time.Millisecond
			o := outage{at: at, down: time.Duration(100+rng.IntN(700)) * time.Millisecond}
			s.outages = append(s.outages, o)
			at += o.down
		}
	}
	for range processes {
		s.processes = append(s.processes, generateRuns(rng))
	}
	// Drawn last, so that a seed's history is otherwise what it was
	// before there was a choice.
	if rng.IntN(3) == 0 && !s.shared() {
		s.lookupFailures = 0.3
		s.recheckAfter = time.Millisecond
	}
	return s
}

// sharedOneIn: one history in this many has two processes sharing a
// redis-server (they cost more: a server each, outages to wait out).
const sharedOneIn = 3

// generateRuns makes one process's runs and what goes wrong in each.
func generateRuns(rng *rand.Rand) []faults {
	var runs []faults
	n := 1 + rng.IntN(3)
	for r := range n {
		f := faults{}
		if rng.IntN(2) == 0 {
			f.storageErrorRate = 0.05 * float64(1+rng.IntN(3))
		}
		if rng.IntN(2) == 0 {
			f.refuseRate = 0.1 * float64(1+rng.IntN(3))
		}
		if rng.IntN(3) == 0 {
			f.apiFailures = 1 + rng.IntN(4)
		}
		if r < n-1 {
			f.crashAfter = rng.IntN(2) == 0
			switch rng.IntN(3) {
			case 0:
				f.crashAtStorageOp = 1 + rng.IntN(40)
			case 1:
				f.crashAtAccept = 1 + rng.IntN(8)
			default:
				f.crashAtClaim = 1 + rng.IntN(4)
			}
		}
		runs = append(runs, f)
	}
	return runs
}

// describe prints the history so that a failure can be read and replayed.
func (s *scenario) describe() string {
	var b strings.Builder
	if s.test != "" {
		fmt.Fprintf(&b, "history of %s (replay: go test -race -run %s ./test/signupmodel/)\n", s.test, s.test)
	} else {
		fmt.Fprintf(&b, "history seed %d (replay: SIGNUP_MODEL_SEED=%d go test -race -run '%s$' ./test/signupmodel/)\n", s.seed, s.seed, s.family)
	}
	for _, u := range s.users {
		kind := "new"
		if u.returning {
			kind = "returning"
		}
		fmt.Fprintf(&b, "  user %s (%s)\n", u.id, kind)
	}
	for i, batch := range s.batches {
		fmt.Fprintf(&b, "  stream batch %d:", i)
		for _, r := range batch {
			fmt.Fprintf(&b, " %s", r)
		}
		b.WriteString("\n")
	}
	for _, r := range s.actions {
		fmt.Fprintf(&b, "  action %s\n", r)
	}
	if s.pulled != nil {
		fmt.Fprintf(&b, "  pull mode reads the stream's %d records too\n", len(s.pulled))
	}
	if s.streams > 0 {
		fmt.Fprintf(&b, "  %d stream batches in flight at once, from %s after the Action's first posts\n", s.streams, s.streamDelay)
	}
	if s.shared() {
		fmt.Fprintf(&b, "  %d processes sharing one redis-server, every request to either at random, %.0f%% of stream requests to both at once\n", len(s.processes), 100*s.hedged)
		for _, o := range s.outages {
			fmt.Fprintf(&b, "  redis-server killed at %s, started again %s later\n", o.at, o.down)
		}
	}
	if s.lookupFailures > 0 {
		fmt.Fprintf(&b, "  %.0f%% of lookups answered 503\n", 100*s.lookupFailures)
	}
	if s.recheckAfter > 0 {
		fmt.Fprintf(&b, "  users known by a logins count looked up again %s after\n", s.recheckAfter)
	}
	for p, runs := range s.processes {
		for i, f := range runs {
			fmt.Fprintf(&b, "  %s: %s\n", runLabel(s, p, i+1), f)
		}
	}
	return b.String()
}

// runLabel names a process's run in the trace: "run 2", or "B run 2"
// with two processes.
func runLabel(s *scenario, process, n int) string {
	if !s.shared() {
		return fmt.Sprintf("run %d", n)
	}
	return fmt.Sprintf("%c run %d", 'A'+process, n)
}

func (r record) String() string {
	return fmt.Sprintf("%s[%s %s n=%d]", r.id[max(0, len(r.id)-4):], r.typ, r.user[strings.LastIndex(r.user, "-")+1:], r.logins)
}

// event is the Auth0 log event of a stream or log API record.
func (r record) event() auth0test.Event {
	return auth0test.Event{LogID: r.id, Type: r.typ, UserID: r.user, LoginsCount: r.logins}
}
