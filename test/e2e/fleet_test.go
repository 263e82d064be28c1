//go:build e2e

package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// fleetScale is how many users each phase of TestFleet sends: bounded in
// `make test`, larger with FLEET_SCALE=full (`make fleet`).
type fleetScale struct {
	newUsers, returning, userless int
	// spread is how long a phase's records take to send.
	spread time.Duration
}

func fleetScaleFromEnv() fleetScale {
	if os.Getenv("FLEET_SCALE") == "full" {
		return fleetScale{newUsers: 5000, returning: 5000, userless: 1000, spread: 30 * time.Second}
	}
	return fleetScale{newUsers: 1000, returning: 1000, userless: 300, spread: 10 * time.Second}
}

// phase is one wave of logins: new users, each with a signup record (ss)
// and a first login (s) that reach different agents at about the same
// moment, as Auth0 emits them, and returning users already marked signed
// up in Auth0.
type phase struct {
	name      string
	newUsers  []string
	returning []string
	byAgent   [2][]record
}

func (f *fleet) newPhase(name string, newUsers, returning int) *phase {
	p := &phase{name: name}
	// Slots in posting order; each puts one record in each agent's list,
	// so that a new user's two records are posted in the same round.
	type slot struct{ a, b record }
	var slots []slot
	for i := range newUsers {
		u := fmt.Sprintf("auth0|fleet-%s-n%d", name, i)
		f.fake.AddUser(u, map[string]any{})
		p.newUsers = append(p.newUsers, u)
		ss := loginRecord(auth0test.Event{LogID: fmt.Sprintf("%s-ss-%d", name, i), Type: "ss", UserID: u})
		first := loginRecord(auth0test.Event{LogID: fmt.Sprintf("%s-s-%d", name, i), Type: "s", UserID: u, LoginsCount: 1})
		if i%2 == 0 {
			slots = append(slots, slot{ss, first})
		} else {
			slots = append(slots, slot{first, ss})
		}
	}
	var logins []record
	for i := range returning {
		u := fmt.Sprintf("auth0|fleet-returning-%d", i)
		f.fake.AddUser(u, map[string]any{"signedUp": true})
		p.returning = append(p.returning, u)
		logins = append(logins, loginRecord(auth0test.Event{LogID: fmt.Sprintf("%s-r-%d", name, i), Type: "s", UserID: u, LoginsCount: 7}))
	}
	for i := 0; i+1 < len(logins); i += 2 {
		slots = append(slots, slot{logins[i], logins[i+1]})
	}
	// The same order every run: the test is as repeatable as the machine
	// lets it be. Slots are shuffled, then records within each round of
	// 100 per agent, so that a user's records share a round, not a place.
	r := rand.New(rand.NewPCG(uint64(len(name)), uint64(name[len(name)-1])))
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for _, sl := range slots {
		p.byAgent[0] = append(p.byAgent[0], sl.a)
		p.byAgent[1] = append(p.byAgent[1], sl.b)
	}
	if len(logins)%2 == 1 {
		p.byAgent[0] = append(p.byAgent[0], logins[len(logins)-1])
	}
	// FLEET_SPREAD=phase shuffles each agent's records over the whole
	// phase instead: a user's two records reach the gateways up to the
	// phase's length apart, so that many straddle a cutover.
	if os.Getenv("FLEET_SPREAD") == "phase" {
		for a := range p.byAgent {
			r.Shuffle(len(p.byAgent[a]), func(i, j int) { p.byAgent[a][i], p.byAgent[a][j] = p.byAgent[a][j], p.byAgent[a][i] })
		}
	}
	for a := range p.byAgent {
		recs := p.byAgent[a]
		for start := 0; start < len(recs); start += sendBatch {
			round := recs[start:min(start+sendBatch, len(recs))]
			r.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		}
	}
	return p
}

// sendBatch is how many records one request carries.
const sendBatch = 100

// send posts both agents' records at once, in batches of 100 spread over
// spread. Once a fraction at of the batches is acknowledged, during runs
// (on the test's goroutine) while the posting goes on. It returns the
// acknowledged log ids.
func (f *fleet) send(byAgent [2][]record, spread time.Duration, at float64, during func()) []string {
	const batch = sendBatch
	total := 0
	for _, recs := range byAgent {
		total += (len(recs) + batch - 1) / batch
	}
	var posted atomic.Int64
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	pause := time.Duration(int64(spread) * 2 / int64(max(total, 1)))
	for a, recs := range byAgent {
		wg.Go(func() {
			for start := 0; start < len(recs); start += batch {
				ids := f.post(a, recs[start:min(start+batch, len(recs))])
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
				posted.Add(1)
				time.Sleep(pause)
			}
		})
	}
	if during != nil {
		for float64(posted.Load()) < at*float64(total) {
			time.Sleep(20 * time.Millisecond)
		}
		during()
	}
	wg.Wait()
	return acked
}

// phaseResult is what a phase delivered.
type phaseResult struct {
	lost       []string
	duplicates int            // records that arrived more than once
	signUps    map[string]int // records tagged SignUp per user, over the whole run
	// SignUp records that arrived more than once: the pipeline delivers at
	// least once, a SignUp as any record (the same record, one decision).
	signUpRedeliveries int
	patches            map[string]int // successful app_metadata updates per user
}

// settle waits until every acknowledged id reached HEC and every new user
// of p was marked in Auth0 (or timeout), then counts.
func (f *fleet) settle(t *testing.T, p *phase, acked []string, timeout time.Duration) phaseResult {
	t.Helper()
	var r phaseResult
	r.lost = f.hec.waitFor(acked, timeout)
	deadline := time.Now().Add(timeout)
	for {
		r.patches = f.patches()
		unmarked := 0
		for _, u := range p.newUsers {
			if r.patches[u] == 0 {
				unmarked++
			}
		}
		if unmarked == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	received := f.hec.received()
	for _, id := range acked {
		if received[id] > 1 {
			r.duplicates += received[id] - 1
		}
	}
	r.signUps = map[string]int{}
	tagged := map[string]bool{}
	for _, e := range f.hec.snapshot() {
		if e.Event != "SignUp" {
			continue
		}
		if tagged[e.ID] {
			r.signUpRedeliveries++
			continue
		}
		tagged[e.ID] = true
		r.signUps[e.User]++
	}
	return r
}

func (f *fleet) patches() map[string]int {
	out := map[string]int{}
	for _, r := range f.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if r.Status == http.StatusOK {
			out[r.UserID]++
		}
	}
	return out
}

// countSignUps returns how many of users have exactly one SignUp, none, and
// more than one.
func countSignUps(signUps map[string]int, users []string) (one, none int, twice []string) {
	for _, u := range users {
		switch n := signUps[u]; {
		case n == 1:
			one++
		case n == 0:
			none++
		default:
			twice = append(twice, u)
		}
	}
	return one, none, twice
}

// windowReport explains the users with more than one SignUp after a
// gateway left: on what basis each SignUp was decided, how far apart they
// reached HEC, and whether the gateway that took over the user asked Auth0
// and, if it did, whether the user's app_metadata update had landed by
// then (the fake Management API timestamps both calls; the new owner's
// calls are those after the cutover).
type windowReport struct {
	patterns map[string]int // "record(basis) + record(basis)"
	gaps     []time.Duration
	// notAsked: the new owner decided SignUp from the record alone,
	// without asking Auth0; askedEarly: it looked up the user before the
	// update landed (the window proper); askedLate: it looked up after the
	// update landed and still decided SignUp (must not happen).
	notAsked, askedEarly, askedLate, neverUpdated int
	lines                                         []string
}

func (f *fleet) explainTwice(users []string, cutover time.Time) windowReport {
	events := f.hec.snapshot()
	patched := map[string]time.Time{}
	for _, r := range f.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if _, ok := patched[r.UserID]; !ok && r.Status == http.StatusOK {
			patched[r.UserID] = r.At
		}
	}
	newOwnerLookup, oldOwnerLookup := map[string]time.Time{}, map[string]time.Time{}
	for _, r := range f.fake.Requests(http.MethodGet, "/api/v2/users/") {
		if r.Status != http.StatusOK {
			continue
		}
		if _, ok := newOwnerLookup[r.UserID]; !ok && r.At.After(cutover) {
			newOwnerLookup[r.UserID] = r.At
		}
		if r.At.Before(cutover) {
			oldOwnerLookup[r.UserID] = r.At
		}
	}
	w := windowReport{patterns: map[string]int{}}
	for _, u := range users {
		var signUps []fleetHECEvent
		for _, e := range events {
			if e.User == u && e.Event == "SignUp" && !slices.ContainsFunc(signUps, func(s fleetHECEvent) bool { return s.ID == e.ID }) {
				signUps = append(signUps, e)
			}
		}
		if len(signUps) < 2 {
			continue
		}
		kind := func(e fleetHECEvent) string { return strings.SplitN(e.ID, "-", 3)[1] + "(" + e.Basis + ")" }
		kinds := []string{kind(signUps[0]), kind(signUps[1])}
		sort.Strings(kinds)
		w.patterns[strings.Join(kinds, " + ")]++
		gap := signUps[1].At.Sub(signUps[0].At)
		w.gaps = append(w.gaps, gap)
		patch, updated := patched[u]
		lookup, asked := newOwnerLookup[u]
		// The new owner's SignUp rested on a lookup only if one of the two
		// did and the new owner looked the user up; it may also have looked
		// the user up for another record (then found them signed up).
		lookupSignUp := signUps[0].Basis == "lookup" || signUps[1].Basis == "lookup"
		_, oldOwnerAsked := oldOwnerLookup[u]
		verdict := ""
		switch {
		case !updated:
			w.neverUpdated++
			verdict = "never updated"
		case lookupSignUp && asked && lookup.Before(patch):
			w.askedEarly++
			verdict = fmt.Sprintf("the new owner looked up %s before the update landed", patch.Sub(lookup).Round(time.Millisecond))
		case lookupSignUp && asked && !oldOwnerAsked:
			w.askedLate++
			verdict = "the new owner looked up after the update landed"
		default:
			w.notAsked++
			verdict = "the new owner decided from the record alone"
		}
		w.lines = append(w.lines, fmt.Sprintf("%s: %s, %s apart at HEC; %s", u, strings.Join(kinds, " + "), gap.Round(time.Millisecond), verdict))
	}
	sort.Slice(w.gaps, func(i, j int) bool { return w.gaps[i] < w.gaps[j] })
	return w
}

func (w windowReport) String() string {
	if len(w.gaps) == 0 {
		return "none"
	}
	var patterns []string
	for p, n := range w.patterns {
		patterns = append(patterns, fmt.Sprintf("%d %s", n, p))
	}
	sort.Strings(patterns)
	return fmt.Sprintf("%d users (%s); their two SignUps reached HEC min %s, median %s, max %s apart; "+
		"the new owner decided from the record alone: %d, looked up before the update landed: %d, after: %d; never updated: %d",
		len(w.gaps), strings.Join(patterns, ", "), w.gaps[0].Round(time.Millisecond), w.gaps[len(w.gaps)/2].Round(time.Millisecond),
		w.gaps[len(w.gaps)-1].Round(time.Millisecond), w.notAsked, w.askedEarly, w.askedLate, w.neverUpdated)
}

// signUpsPerGateway reads each running gateway's count of SignUps.
func (f *fleet) signUpsPerGateway(which []int) []float64 {
	var out []float64
	for _, i := range which {
		out = append(out, metricValue(f.gateways[i].Scrape(), "otelcol_processor_signup_records", `outcome="signup"`))
	}
	return out
}

func (f *fleet) acceptedPerGateway(which []int) []float64 {
	var out []float64
	for _, i := range which {
		out = append(out, metricValue(f.gateways[i].Scrape(), "otelcol_receiver_accepted_log_records"))
	}
	return out
}

// TestFleet runs config/agent.yaml twice (two nodes of the DaemonSet) in
// front of three config/gateway.yaml (the StatefulSet), sharded by user
// with the load_balancing exporter (static resolver on loopback), TLS and
// a bearer token on the hop. Three phases share the fleet:
//
//  1. steady: new users' ss and first s reach different agents at once,
//     returning users log in: one SignUp and one app_metadata update per
//     new user, none for returning users, nothing lost; each gateway's
//     share of users within 15% of even; records without a user reach
//     every gateway;
//  2. a gateway killed (SIGKILL) mid-stream and restarted on its storage:
//     the same, and no user has two SignUps;
//  3. a gateway removed for good mid-stream, while Splunk is unavailable
//     for a moment (SIGTERM, agents reconfigured to the two others, its
//     volume drained afterwards): nothing lost;
//     users with two SignUps are counted and explained (the resharding
//     window); users who signed up long before the move get no SignUp.
func TestFleet(t *testing.T) {
	scale := fleetScaleFromEnv()
	started := time.Now()
	f := newFleet(t, 3, 2)
	t.Logf("fleet of 2 agents and 3 gateways started in %s", time.Since(started).Round(time.Millisecond))
	all := []int{0, 1, 2}

	var steady *phase
	t.Run("steady", func(t *testing.T) {
		steady = f.newPhase("p1", scale.newUsers, scale.returning)
		began := time.Now()
		acked := f.send(steady.byAgent, scale.spread, 0, nil)
		sent := time.Since(began)
		r := f.settle(t, steady, acked, 3*time.Minute)
		t.Logf("figures: steady: %d records acknowledged in %s, delivered and marked after %s; lost %d, duplicates %d",
			len(acked), sent.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), len(r.lost), r.duplicates)
		require.True(t, assertNoneLost(t, r.lost))
		one, none, twice := countSignUps(r.signUps, steady.newUsers)
		t.Logf("figures: steady: new users with one SignUp %d, none %d, two or more %d", one, none, len(twice))
		assert.Equal(t, len(steady.newUsers), one, "one SignUp per new user: %v", f.explainTwice(twice, time.Time{}).lines)
		_, noneReturning, _ := countSignUps(r.signUps, steady.returning)
		assert.Equal(t, len(steady.returning), noneReturning, "no SignUp for returning users")
		for _, u := range steady.newUsers {
			if !assert.Equal(t, 1, r.patches[u], "one app_metadata update for %s", u) {
				break
			}
		}

		shares := f.signUpsPerGateway(all)
		t.Logf("figures: steady: new users per gateway: %s", fmtShares(shares))
		for i, n := range shares {
			assert.InDelta(t, 1, n/(float64(len(steady.newUsers))/3), 0.15, "gateway %d's share of users", i)
		}

		// Records without a user spread over every gateway.
		before := f.acceptedPerGateway(all)
		var userless [2][]record
		for i := range scale.userless {
			userless[i%2] = append(userless[i%2], userlessRecord(fmt.Sprintf("p1-userless-%d", i)))
		}
		require.True(t, assertNoneLost(t, f.hec.waitFor(f.send(userless, 0, 0, nil), time.Minute)))
		after := f.acceptedPerGateway(all)
		spread := make([]float64, len(all))
		for i := range all {
			spread[i] = after[i] - before[i]
			assert.Greater(t, spread[i], float64(scale.userless)/3/2, "gateway %d got too few records without a user", i)
		}
		t.Logf("figures: steady: records without a user per gateway: %s", fmtShares(spread))
	})
	if t.Failed() {
		return
	}

	t.Run("gateway killed and restarted", func(t *testing.T) {
		p := f.newPhase("p2", scale.newUsers, scale.returning)
		began := time.Now()
		var down time.Duration
		acked := f.send(p.byAgent, scale.spread, 0.3, func() {
			killed := time.Now()
			f.gateways[1].Kill()
			time.Sleep(3 * time.Second)
			f.startGateway(1)
			down = time.Since(killed)
		})
		r := f.settle(t, p, acked, 5*time.Minute)
		t.Logf("figures: kill: gateway 1 down %s; %d records acknowledged, delivered and marked after %s; lost %d, duplicates %d",
			down.Round(time.Millisecond), len(acked), time.Since(began).Round(time.Millisecond), len(r.lost), r.duplicates)
		require.True(t, assertNoneLost(t, r.lost))
		one, none, twice := countSignUps(r.signUps, p.newUsers)
		t.Logf("figures: kill: new users with one SignUp %d, none %d, two or more %d; SignUp records delivered again %d", one, none, len(twice), r.signUpRedeliveries)
		assert.Empty(t, twice, "users with two SignUps after a gateway crash: %v", f.explainTwice(twice, time.Time{}).lines)
		assert.Equal(t, len(p.newUsers), one)
		_, noneReturning, _ := countSignUps(r.signUps, p.returning)
		assert.Equal(t, len(p.returning), noneReturning, "no SignUp for returning users")
		// Every new user is marked once: an update the kill may have struck
		// after its call reads the user first after the restart.
		for _, u := range p.newUsers {
			if !assert.Equal(t, 1, r.patches[u], "app_metadata updates of %s", u) {
				break
			}
		}
	})
	if t.Failed() {
		return
	}

	t.Run("gateway removed for good", func(t *testing.T) {
		p := f.newPhase("p3", scale.newUsers, scale.returning)
		began := time.Now()
		var gatewayStop, agentsRestart time.Duration
		var cutover time.Time
		before := f.signUpsPerGateway([]int{0, 1})
		acked := f.send(p.byAgent, scale.spread, 0.3, func() {
			// Splunk is unavailable for a moment, so that the gateway
			// leaves with records in its queue.
			f.hec.down.Store(true)
			time.Sleep(2 * time.Second)
			// The scale-down: the gateway gets SIGTERM, then the agents
			// route to the two others.
			at := time.Now()
			assert.Equal(t, 0, f.gateways[2].Terminate(2*time.Minute))
			gatewayStop = time.Since(at)
			at = time.Now()
			var wg sync.WaitGroup
			for i := range f.agents {
				wg.Go(func() { _, _ = f.agents[i].Process.Stop(syscall.SIGTERM, 2*time.Minute) })
			}
			wg.Wait()
			// From here on, the two remaining gateways own the removed
			// one's users.
			cutover = time.Now()
			for i := range f.agents {
				f.startAgent(i, f.gatewayAddrs[:2])
			}
			agentsRestart = time.Since(at)
			f.hec.down.Store(false)
		})
		// Users who signed up in the first phase log in again: those who
		// moved are known to their new gateway only through Auth0.
		var again [2][]record
		for i, u := range steady.newUsers {
			again[i%2] = append(again[i%2], loginRecord(auth0test.Event{LogID: fmt.Sprintf("p3-again-%d", i), Type: "s", UserID: u, LoginsCount: 2}))
		}
		acked = append(acked, f.send(again, scale.spread/2, 0, nil)...)

		// What the removed gateway accepted but had not delivered, and the
		// updates it had not sent, are on its volume: drain it, outside
		// the ring.
		drainStart := time.Now()
		f.startGateway(2)
		var drained string
		require.Eventually(t, func() bool {
			m := f.gateways[2].Scrape()
			drained = fmt.Sprintf("%.0f records sent to HEC, %.0f updates sent",
				metricValue(m, "otelcol_exporter_sent_log_records", `exporter="splunk_hec"`),
				metricValue(m, "otelcol_processor_signup_updates", `result="ok"`))
			return metricValue(m, "otelcol_exporter_queue_size", `exporter="splunk_hec"`) == 0 &&
				metricValue(m, "otelcol_processor_signup_update_queue_size") == 0
		}, 2*time.Minute, 500*time.Millisecond, "the removed gateway's volume did not drain")
		assert.Equal(t, 0, f.gateways[2].Terminate(time.Minute))
		drain := time.Since(drainStart)
		t.Logf("figures: removal: the drain of the removed gateway's volume took %s: %s", drain.Round(time.Millisecond), drained)

		r := f.settle(t, p, acked, 5*time.Minute)
		t.Logf("figures: removal: gateway stop %s, agents reconfigured in %s, drain of the removed volume %s; %d records acknowledged, delivered and marked after %s; lost %d, duplicates %d",
			gatewayStop.Round(time.Millisecond), agentsRestart.Round(time.Millisecond), drain.Round(time.Millisecond),
			len(acked), time.Since(began).Round(time.Millisecond), len(r.lost), r.duplicates)
		require.True(t, assertNoneLost(t, r.lost))
		one, none, twice := countSignUps(r.signUps, p.newUsers)
		t.Logf("figures: removal: new users with one SignUp %d, none %d, two or more %d (the resharding window); SignUp records delivered again %d", one, none, len(twice), r.signUpRedeliveries)
		window := f.explainTwice(twice, cutover)
		t.Logf("figures: removal: window: %s", window)
		for _, line := range window.lines[:min(10, len(window.lines))] {
			t.Logf("window: %s", line)
		}
		assert.Zero(t, none, "every new user has a SignUp")
		assert.Zero(t, window.askedLate, "a gateway that found the user signed up in Auth0 must not emit a SignUp")
		_, _, settledTwice := countSignUps(r.signUps, steady.newUsers)
		assert.Empty(t, settledTwice, "users who signed up before the move must not sign up again: %v", f.explainTwice(settledTwice, time.Time{}).lines)
		_, noneReturning, _ := countSignUps(r.signUps, p.returning)
		assert.Equal(t, len(p.returning), noneReturning, "no SignUp for returning users")
		patchedTwice := 0
		for _, u := range p.newUsers {
			if !assert.GreaterOrEqual(t, r.patches[u], 1, "app_metadata update for %s", u) {
				break
			}
			if r.patches[u] > 1 {
				patchedTwice++
			}
		}
		t.Logf("figures: removal: new users updated more than once: %d", patchedTwice)
		after := f.signUpsPerGateway([]int{0, 1})
		t.Logf("figures: removal: SignUps of this phase per remaining gateway: %s", fmtShares([]float64{after[0] - before[0], after[1] - before[1]}))
	})

	for _, c := range append(append([]*Collector{}, f.agents...), f.gateways[0], f.gateways[1]) {
		assert.Equal(t, 0, c.Terminate(2*time.Minute))
	}
	var out strings.Builder
	for _, c := range append(f.agents, f.gateways...) {
		out.WriteString(c.Output())
	}
	assertNoSecrets(t, out.String(), FakeClientSecret, Secret)
	t.Logf("figures: total %s", time.Since(started).Round(time.Second))
}

// TestFleetHopRefusesStrangers: the hop is mutual TLS. An agent whose
// certificate the gateway does not trust, or that does not trust the
// gateway's, delivers nothing; and a refusal is never a loss: what the agent
// acknowledged waits in its queue until it has the right certificates.
func TestFleetHopRefusesStrangers(t *testing.T) {
	f := newFleet(t, 1, 1)
	stranger := newCertAuthority(t, "stranger")
	dir := t.TempDir()
	strangerCA := filepath.Join(dir, "stranger-ca.crt")
	writePEM(t, strangerCA, "CERTIFICATE", stranger.der)
	cert, key := stranger.issue(t, dir, "otelcol-auth0-agent", false)

	for name, start := range map[string]func(){
		"the gateway refuses the agent's certificate": func() {
			f.startAgentWithCert(0, f.gatewayAddrs, cert, key)
		},
		"the agent refuses the gateway's certificate": func() {
			f.startAgentWithEnv(0, f.gatewayAddrs, map[string]string{"OTELCOL_GATEWAY_CA_FILE": strangerCA})
		},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, 0, f.agents[0].Terminate(2*time.Minute))
			start()
			var recs []record
			for i := range 10 {
				recs = append(recs, loginRecord(auth0test.Event{LogID: fmt.Sprintf("%s-%d", name, i), Type: "s", UserID: fmt.Sprintf("auth0|stranger-%d", i), LoginsCount: 3}))
			}
			acked := f.post(0, recs)
			assert.Equal(t, len(acked), len(f.hec.waitFor(acked, 5*time.Second)), "nothing passes the hop")
			assert.Equal(t, float64(len(acked)), metricValue(f.agents[0].Scrape(), "otelcol_exporter_queue_size"), "the agent keeps what it acknowledged")

			// Fixed, after a crash for good measure: all of it arrives.
			f.agents[0].Kill()
			f.startAgent(0, f.gatewayAddrs)
			assertNoneLost(t, f.hec.waitFor(acked, time.Minute))
		})
	}
}

// TestFleetLargeBatchesAfterAnOutage: while a gateway is down its agent's
// queue fills with large requests (800 records of 4 KB, 3.4 MB each, under
// the receiver's default max_request_body_size of 4 MiB); when the gateway
// is back the queue drains in the largest batches the agent makes. None
// may exceed what the gateway accepts: a message it refuses as too large
// is a permanent error for the agent, which would drop the batch.
func TestFleetLargeBatchesAfterAnOutage(t *testing.T) {
	f := newFleet(t, 1, 1)
	f.gateways[0].Kill()
	var acked []string
	for r := range 3 {
		var recs []record
		for i := range 800 {
			recs = append(recs, loginRecord(auth0test.Event{LogID: fmt.Sprintf("large-%d-%d", r, i), Type: "s",
				UserID: fmt.Sprintf("auth0|large-%d-%d", r, i), LoginsCount: 3, ClientName: "Storefront " + strings.Repeat("x", 4000)}))
		}
		acked = append(acked, f.post(0, recs)...)
	}
	time.Sleep(2 * time.Second) // the batches form while the gateway is away
	f.startGateway(0)
	assertNoneLost(t, f.hec.waitFor(acked, 4*time.Minute))
	assert.False(t, strings.Contains(f.agents[0].Output(), "ResourceExhausted"), "a gateway refused a batch as too large")
}

// assertNoneLost fails with the number of ids missing and the first few.
func assertNoneLost(t *testing.T, missing []string) bool {
	t.Helper()
	return assert.Empty(t, missing[:min(10, len(missing))], "%d acknowledged records lost (the first ten shown)", len(missing))
}
