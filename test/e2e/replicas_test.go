// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

// redisSettings is the --config that gives every replica the signup
// processor's shared claim store, from REDIS_ENDPOINT and
// REDIS_TLS_INSECURE: the deployment's own file.
const redisSettings = "config/redis.yaml"

// replicaCount is the DaemonSet's size in these tests.
const replicaCount = 3

// replicaDrainTimeout bounds a replica's drain at SIGTERM: long enough for
// a phase's backlog on a loaded machine, short enough to bound the test.
const replicaDrainTimeout = 30 * time.Second

// replicaScale is how many users each phase of TestReplicas sends:
// E2E_REPLICA_USERS new users (1,000 by default, which keeps the test
// within a few minutes on two cores with the race detector), and a quarter
// as many returning users.
func replicaScale(t *testing.T) (newUsers, returning int) {
	newUsers = 1000
	if v := os.Getenv("E2E_REPLICA_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "E2E_REPLICA_USERS")
		newUsers = n
	}
	return newUsers, newUsers / 4
}

// Exactly one app_metadata update and one SignUp event per new user are
// asserted in every phase where no replica is killed. A replica killed
// between taking an update from the stream and acknowledging it leaves it to
// another replica, which sends it again (setting the flag twice changes
// nothing); and a SignUp the killed replica had delivered but not confirmed
// is delivered again by the replica its copy reaches (the same decision, at
// least once). There these are reported as figures, and every new user
// updated at least once is asserted.

// replicaSet is replicaCount collectors from otelcol-config.yaml with the
// Redis settings, sharing one redis-server, one HEC endpoint and the fake
// Management API, as the DaemonSet's pods on three nodes do.
type replicaSet struct {
	t     *testing.T
	fake  *fakeauth0.Server
	api   *httptest.Server
	hec   *hecRecorder
	hecTS *httptest.Server
	redis *redistest.Server

	mu      sync.Mutex // guards procs while senders run
	procs   []*Collector
	storage []string
	addrs   []binarytest.Addresses
	configs []string
	client  *http.Client
	// inflight counts each replica's requests sent and not yet answered.
	inflight [replicaCount]atomic.Int64
}

func newReplicaSet(t *testing.T) *replicaSet {
	t.Helper()
	s := &replicaSet{
		t:      t,
		fake:   fakeauth0.New(FakeClientID, FakeClientSecret, "https://"+FakeDomain+"/api/v2/"),
		hec:    newHECRecorder(),
		redis:  redistest.Start(t),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	s.api = httptest.NewServer(s.fake)
	t.Cleanup(s.api.Close)
	s.hecTS = httptest.NewServer(s.hec)
	t.Cleanup(s.hecTS.Close)

	root := repoRoot(t)
	// The recorder tells records apart by fields Splunk does not index by
	// default: the test opts in to them as a user would.
	fields, err := hecfields.Overlay(filepath.Join(root, "otelcol-config.yaml"), replicaFields...)
	require.NoError(t, err)
	s.configs = []string{
		fields,
		filepath.Join(root, redisSettings),
		// The burst of new users would take minutes at the production
		// write budget (3/s a replica).
		"yaml:processors::signup::management_api::rate_limit: {writes_per_second: 200, write_burst: 50, reads_per_second: 200, read_burst: 50}",
	}
	s.procs = make([]*Collector, replicaCount)
	for range replicaCount {
		s.storage = append(s.storage, t.TempDir())
		s.addrs = append(s.addrs, binarytest.FreeAddresses())
	}
	var wg sync.WaitGroup
	for i := range replicaCount {
		wg.Go(func() { s.start(i) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return s
}

// token is replica i's HEC token: the recorder keeps it with each event,
// which tells the replica that delivered it. Each starts with HECToken, so
// that the check for secrets in the output covers them.
func replicaToken(i int) string { return fmt.Sprintf("%s-r%d", HECToken, i) }

func replicaOf(token string) string {
	if i := strings.LastIndex(token, "-r"); i >= 0 {
		return "replica " + token[i+2:]
	}
	return "an unknown replica"
}

// start starts replica i, again on its storage and addresses when it ran
// before.
func (s *replicaSet) start(i int) {
	s.t.Helper()
	env := map[string]string{
		"AUTH0_DOMAIN":         FakeDomain,
		"AUTH0_CLIENT_ID":      FakeClientID,
		"AUTH0_CLIENT_SECRET":  FakeClientSecret,
		"AUTH0_MANAGEMENT_URL": s.api.URL,
		"SPLUNK_HEC_TOKEN":     replicaToken(i),
		"REDIS_ENDPOINT":       s.redis.Addr(),
		"REDIS_TLS_INSECURE":   "true",
		// Read by the receiver's drain at SIGTERM, where configured.
		"OTELCOL_DRAIN_TIMEOUT": replicaDrainTimeout.String(),
	}
	c := StartCollector(s.t, Options{
		HECEndpoint: s.hecTS.URL + "/services/collector",
		Storage:     s.storage[i],
		Addresses:   s.addrs[i],
		Env:         env,
		Configs:     s.configs,
	})
	s.mu.Lock()
	s.procs[i] = c
	s.mu.Unlock()
}

// whileBusy waits (up to 5 s) until replica i is handling a request, and
// then a random moment of the request's life, so that what follows strikes
// it mid-request: records in its queue or claims in Redis that their sender
// was never told about. It returns how many requests were in flight then.
func (s *replicaSet) whileBusy(i int, r *rand.Rand) int64 {
	deadline := time.Now().Add(5 * time.Second)
	for s.inflight[i].Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
	return s.inflight[i].Load()
}

func (s *replicaSet) replica(i int) *Collector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[i]
}

// request is one POST as Auth0 makes it: a log stream batch, or one
// post-login Action payload.
type request struct {
	path string
	body []byte
	ids  []string
}

func logBatch(events []auth0test.Event) request {
	r := request{path: "/auth0/logs", body: auth0test.Lines(events...)}
	for _, e := range events {
		r.ids = append(r.ids, e.LogID)
	}
	return r
}

func actionCall(a auth0test.ActionEvent) request {
	return request{path: "/auth0/actions", body: a.JSON(), ids: []string{a.EventID}}
}

// sendStats counts the refusals senders met and retried.
type sendStats struct {
	refused503   atomic.Int64 // 503, e.g. Redis down
	noRetryAfter atomic.Int64 // 503s without a Retry-After
	refusedOther atomic.Int64 // any other status but 200
	connErrors   atomic.Int64 // no answer: a replica down
	requests     atomic.Int64 // answered 200

	mu sync.Mutex
	// retried lists the requests answered 200 after a refusal or no
	// answer: where they went, and what the replica that took them said.
	retried []string
}

// post sends r to replica first, and, as Auth0 does behind a load
// balancer, again to the next replica each time it is refused or not
// answered, until a replica answers 200; it returns that replica.
func (s *replicaSet) post(r request, first int, st *sendStats) (int, error) {
	last := "no answer"
	deadline := time.Now().Add(3 * time.Minute)
	for i := first; ; i = (i + 1) % replicaCount {
		req, err := http.NewRequest(http.MethodPost, "http://"+s.replica(i).Receiver+r.path, bytes.NewReader(r.body))
		if err != nil {
			return -1, err
		}
		req.Header.Set("Authorization", "Bearer "+Secret)
		req.Header.Set("Content-Type", "application/json")
		s.inflight[i].Add(1)
		resp, err := s.client.Do(req)
		var answer []byte
		if err == nil {
			answer, _ = io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
		}
		s.inflight[i].Add(-1)
		switch {
		case err != nil:
			st.connErrors.Add(1)
			last = err.Error()
		default:
			if resp.StatusCode == http.StatusOK {
				st.requests.Add(1)
				if i != first || last != "no answer" {
					st.mu.Lock()
					st.retried = append(st.retried, fmt.Sprintf("%s %s..%s (%d ids) to replica %d, then %d: %s",
						r.path, r.ids[0], r.ids[len(r.ids)-1], len(r.ids), first, i, answer))
					st.mu.Unlock()
				}
				return i, nil
			}
			if resp.StatusCode == http.StatusServiceUnavailable {
				st.refused503.Add(1)
				if resp.Header.Get("Retry-After") == "" {
					st.noRetryAfter.Add(1)
				}
			} else {
				st.refusedOther.Add(1)
			}
			last = fmt.Sprintf("replica %d answered %d %s", i, resp.StatusCode, answer)
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("%s (%d ids) not accepted in 3 minutes; last: %s", r.path, len(r.ids), last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replicaPhase is one wave of logins. Each round gives every replica a
// log stream batch and a few Action calls, posted at the same moment. A new
// user has three log stream records, one for each replica in the same
// round: the signup (ss), the first login (s, logins_count 1) and a second
// login (logins_count 2), so the two records that may carry the SignUp
// reach two replicas at once; the Action reports the first login too, to
// another replica than the log stream's record. A returning user (already
// marked in Auth0) logs in once through each replica: twice through the log
// stream (logins_count 5 and 6) and once through the Action, which carries
// the mark in app_metadata.
type replicaPhase struct {
	name      string
	newUsers  []string
	returning []string
	rounds    [][replicaCount][]request
	records   int
}

// usersPerRound keeps a log stream batch at about 30 records.
const usersPerRound = 25

func (s *replicaSet) newPhase(name string, newUsers, returning int, seed uint64) *replicaPhase {
	p := &replicaPhase{name: name}
	// Each phase its own stream of the seed: its own order.
	var stream uint64
	for _, c := range name {
		stream = stream*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(seed, stream))
	nRounds := (newUsers + usersPerRound - 1) / usersPerRound
	logs := make([][replicaCount][]auth0test.Event, nRounds)
	actions := make([][replicaCount][]auth0test.ActionEvent, nRounds)
	for i := range newUsers {
		u := fmt.Sprintf("auth0|rep-%s-n%d", name, i)
		s.fake.AddUser(u, map[string]any{})
		p.newUsers = append(p.newUsers, u)
		at := r.Perm(replicaCount)
		round := &logs[i/usersPerRound]
		round[at[0]] = append(round[at[0]], auth0test.Event{LogID: fmt.Sprintf("%s-ss-%d", name, i), Type: "ss", UserID: u})
		round[at[1]] = append(round[at[1]], auth0test.Event{LogID: fmt.Sprintf("%s-s1-%d", name, i), Type: "s", UserID: u, LoginsCount: 1})
		round[at[2]] = append(round[at[2]], auth0test.Event{LogID: fmt.Sprintf("%s-s2-%d", name, i), Type: "s", UserID: u, LoginsCount: 2})
		// The first login through the Action too, not where its log stream
		// record goes.
		via := at[2*r.IntN(2)]
		actions[i/usersPerRound][via] = append(actions[i/usersPerRound][via], auth0test.ActionEvent{
			EventID: fmt.Sprintf("%s-a1-%d", name, i), UserID: u, LoginsCount: 1,
			AppMetadata: map[string]any{},
		})
		p.records += 4
	}
	for i := range returning {
		u := fmt.Sprintf("auth0|rep-%s-r%d", name, i)
		s.fake.AddUser(u, map[string]any{"signedUp": true})
		p.returning = append(p.returning, u)
		at := r.Perm(replicaCount)
		k := i % nRounds
		logs[k][at[0]] = append(logs[k][at[0]], auth0test.Event{LogID: fmt.Sprintf("%s-r5-%d", name, i), Type: "s", UserID: u, LoginsCount: 5})
		logs[k][at[1]] = append(logs[k][at[1]], auth0test.Event{LogID: fmt.Sprintf("%s-r6-%d", name, i), Type: "s", UserID: u, LoginsCount: 6})
		actions[k][at[2]] = append(actions[k][at[2]], auth0test.ActionEvent{
			EventID: fmt.Sprintf("%s-a7-%d", name, i), UserID: u, LoginsCount: 7,
			AppMetadata: map[string]any{"signedUp": true},
		})
		p.records += 3
	}
	for k := range nRounds {
		var round [replicaCount][]request
		for i := range replicaCount {
			batch := logs[k][i]
			r.Shuffle(len(batch), func(a, b int) { batch[a], batch[b] = batch[b], batch[a] })
			if len(batch) > 0 {
				round[i] = append(round[i], logBatch(batch))
			}
			for _, a := range actions[k][i] {
				round[i] = append(round[i], actionCall(a))
			}
		}
		p.rounds = append(p.rounds, round)
	}
	return p
}

// redeliver appends, after the phase's rounds, a copy of every nth round's
// log stream batches, each sent to the next replica: Auth0 sends a batch
// again when it was not told it arrived, and behind a load balancer the
// copy reaches another replica. The copies make no new decisions.
func (p *replicaPhase) redeliver(every int) {
	n := len(p.rounds)
	for k := 0; k < n; k += every {
		var again [replicaCount][]request
		for i, reqs := range p.rounds[k] {
			for _, r := range reqs {
				if r.path == "/auth0/logs" {
					again[(i+1)%replicaCount] = append(again[(i+1)%replicaCount], r)
				}
			}
		}
		p.rounds = append(p.rounds, again)
	}
}

// sent is what a phase's senders were answered.
type sent struct {
	acked map[string]int // id -> the replica that answered 200
	stats *sendStats
	took  time.Duration
}

func (a sent) ids() []string {
	out := make([]string, 0, len(a.acked))
	for id := range a.acked {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// send posts the phase round by round over about spread: in each round one
// goroutine per replica, released together, posts that replica's requests.
// Once a fraction at of the rounds is sent, during runs on the test's
// goroutine (a crash, an outage) while the rounds go on; send returns when
// both are done.
//
//nolint:unparam // each phase passes its spread beside its own at and during
func (s *replicaSet) send(t *testing.T, p *replicaPhase, spread time.Duration, at float64, during func()) sent {
	t.Helper()
	out := sent{acked: map[string]int{}, stats: &sendStats{}}
	began := time.Now()
	pause := spread / time.Duration(max(len(p.rounds), 1))
	var mu sync.Mutex
	var errs []error
	var rounds atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, round := range p.rounds {
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range replicaCount {
				wg.Go(func() {
					<-start
					for _, req := range round[i] {
						by, err := s.post(req, i, out.stats)
						mu.Lock()
						if err != nil {
							errs = append(errs, err)
						}
						for _, id := range req.ids {
							out.acked[id] = by
						}
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			rounds.Add(1)
			time.Sleep(pause)
		}
	}()
	if during != nil {
		for float64(rounds.Load()) < at*float64(len(p.rounds)) {
			time.Sleep(10 * time.Millisecond)
		}
		during()
	}
	<-done
	out.took = time.Since(began)
	require.Empty(t, errs, "requests no replica accepted")
	return out
}

// phaseOutcome is what reached HEC and the fake Management API for a phase.
type phaseOutcome struct {
	lost []string
	// signUps lists, per user, the distinct records delivered tagged
	// SignUp: each is one decision.
	signUps map[string][]recordedHECEvent
	// redeliveries counts SignUp records that arrived more than once (the
	// pipeline delivers at least once; the same record is one decision).
	redeliveries int
	// bothSources lists the users whose first login was tagged SignUp
	// through the Action as well as the log stream: two records of one
	// login, one decision (the processor's identity of a login is the user
	// and the logins count), two SignUp events in Splunk.
	bothSources []string
	// pairedDrops counts first-login records never delivered because the
	// other source's record of that login was delivered as the SignUp.
	pairedDrops int
	duplicates  int            // records of any kind that arrived more than once
	patches     map[string]int // successful app_metadata updates per user
}

// settle waits until every acknowledged record reached HEC (or is a first
// login's copy the processor dropped: see missing), every new user of p was
// updated in Auth0 and no replica holds anything to send (or
// timeout), so that a late second SignUp or update is counted too; then it
// counts.
//
//nolint:unparam // the bound is the caller's, beside the phase it waits for
func (s *replicaSet) settle(p *replicaPhase, a sent, timeout time.Duration) phaseOutcome {
	var o phaseOutcome
	deadline := time.Now().Add(timeout)
	for {
		o.lost, o.pairedDrops = s.missing(a.ids())
		if len(o.lost) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// A user whose update no replica holds any more is never updated:
	// replicas idle for a few seconds end the wait.
	var idleSince time.Time
	for {
		o.patches = s.patches()
		unmarked := slices.ContainsFunc(p.newUsers, func(u string) bool { return o.patches[u] == 0 })
		idle := s.idle()
		switch {
		case !idle:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		}
		if (idle && (!unmarked || time.Since(idleSince) > 3*time.Second)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// What left a queue just now may still be on its way.
	time.Sleep(time.Second)
	o.patches = s.patches()
	o.lost, o.pairedDrops = s.missing(a.ids())
	users := map[string]bool{}
	for _, u := range p.newUsers {
		users[u] = true
	}
	for _, u := range p.returning {
		users[u] = true
	}
	o.signUps = map[string][]recordedHECEvent{}
	seen := map[string]int{}
	tagged := map[string]bool{}
	for _, e := range s.hec.snapshot() {
		if !users[e.User] {
			continue
		}
		seen[e.ID]++
		if seen[e.ID] > 1 {
			o.duplicates++
		}
		if e.Event != "SignUp" {
			continue
		}
		if tagged[e.ID] {
			o.redeliveries++
			continue
		}
		tagged[e.ID] = true
		if slices.ContainsFunc(o.signUps[e.User], func(d recordedHECEvent) bool { return sameLogin(d.ID, e.ID) }) {
			o.bothSources = append(o.bothSources, e.User)
			continue
		}
		o.signUps[e.User] = append(o.signUps[e.User], e)
	}
	return o
}

// missing returns the ids that have not reached HEC, but for a first
// login's record from one source whose twin from the other source arrived
// tagged SignUp: the processor drops that copy of the SignUp's login, by
// design; those it counts apart.
func (s *replicaSet) missing(ids []string) (lost []string, pairedDrops int) {
	got := map[string]int{}
	signUp := map[string]bool{}
	for _, e := range s.hec.snapshot() {
		got[e.ID]++
		if e.Event == "SignUp" {
			signUp[e.ID] = true
		}
	}
	for _, id := range ids {
		if got[id] > 0 {
			continue
		}
		if twin := loginTwin(id); twin != "" && signUp[twin] {
			pairedDrops++
			continue
		}
		lost = append(lost, id)
	}
	return lost, pairedDrops
}

// loginTwin is the id of the same first login from the other source: the
// log stream's record ("-s1-") for the Action's payload ("-a1-"), and back;
// empty for other records.
func loginTwin(id string) string {
	switch {
	case strings.Contains(id, "-a1-"):
		return strings.Replace(id, "-a1-", "-s1-", 1)
	case strings.Contains(id, "-s1-"):
		return strings.Replace(id, "-s1-", "-a1-", 1)
	}
	return ""
}

// sameLogin reports whether two record ids are one login: the first
// login's log stream record ("-s1-") and Action payload ("-a1-").
func sameLogin(a, b string) bool { return a == b || loginTwin(a) == b }

// idle reports whether every replica's HEC queue and update queue are
// empty.
func (s *replicaSet) idle() bool {
	for i := range replicaCount {
		m := s.replica(i).Scrape()
		if scrapeValue(m, "otelcol_exporter_queue_size", `exporter="splunk_hec"`) > 0 ||
			scrapeValue(m, "otelcol_processor_signup_update_queue_size") > 0 {
			return false
		}
	}
	return true
}

func (s *replicaSet) patches() map[string]int {
	out := map[string]int{}
	for _, r := range s.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if r.Status == http.StatusOK {
			out[r.UserID]++
		}
	}
	return out
}

// arrivals describes what reached HEC for a user, for failure messages.
func (s *replicaSet) arrivals(user string, a sent) string {
	var parts []string
	for _, e := range s.hec.snapshot() {
		if e.User != user {
			continue
		}
		event := e.Event
		if event == "" {
			event = "untagged"
		}
		parts = append(parts, fmt.Sprintf("%s %s(%s) acked by replica %d, delivered by %s at %s",
			e.ID, event, e.Basis, a.acked[e.ID], replicaOf(e.Token), e.At.Format("15:04:05.000")))
	}
	if len(parts) == 0 {
		return user + ": nothing arrived"
	}
	return user + ": " + strings.Join(parts, "; ")
}

// check asserts what every phase must deliver, and logs its figures.
// crashed says a replica was killed in the phase (see above for what that
// allows).
func (s *replicaSet) check(t *testing.T, p *replicaPhase, a sent, o phaseOutcome, began time.Time, crashed bool, extra string) {
	t.Helper()
	var decisions int
	for _, evs := range o.signUps {
		decisions += len(evs)
	}
	t.Logf("figures: %s: %d new users, %d returning; %d records acknowledged in %d requests over %s; %d SignUp decisions, %d SignUp redeliveries, %d first logins tagged SignUp through both sources (%d dropped as the other source's SignUp), %d records delivered more than once; "+
		"refusals retried: %d 503, %d other, %d unanswered; delivered and updated after %s; load average %s%s",
		p.name, len(p.newUsers), len(p.returning), len(a.acked), a.stats.requests.Load(), a.took.Round(time.Millisecond),
		decisions, o.redeliveries, len(o.bothSources), o.pairedDrops, o.duplicates,
		a.stats.refused503.Load(), a.stats.refusedOther.Load(), a.stats.connErrors.Load(),
		time.Since(began).Round(time.Millisecond), loadAverage(), extra)
	require.Len(t, a.acked, p.records, "every record was acknowledged once")
	defer func() {
		if t.Failed() {
			a.stats.mu.Lock()
			defer a.stats.mu.Unlock()
			t.Logf("requests taken after a refusal or no answer (%d; the first ten):\n  %s", len(a.stats.retried),
				strings.Join(a.stats.retried[:min(10, len(a.stats.retried))], "\n  "))
			for i := range replicaCount {
				t.Logf("replica %d's records by outcome (since it started): %s", i, s.outcomes(i))
			}
		}
	}()

	if len(o.lost) > 0 {
		var lines []string
		for _, id := range o.lost[:min(10, len(o.lost))] {
			lines = append(lines, fmt.Sprintf("%s (acked by replica %d)", id, a.acked[id]))
		}
		t.Errorf("%d acknowledged records never reached HEC; the first ten: %s", len(o.lost), strings.Join(lines, ", "))
	}

	var twice, none []string
	for _, u := range p.newUsers {
		switch len(o.signUps[u]) {
		case 1:
		case 0:
			none = append(none, u)
		default:
			twice = append(twice, u)
		}
	}
	explain := func(users []string) string {
		var lines []string
		for _, u := range users[:min(10, len(users))] {
			lines = append(lines, "\n  "+s.arrivals(u, a))
		}
		return strings.Join(lines, "")
	}
	assert.Empty(t, twice, "new users with more than one SignUp decision (%d; the first ten with what arrived):%s", len(twice), explain(twice))
	assert.Empty(t, none, "new users without a SignUp (%d; the first ten with what arrived):%s", len(none), explain(none))
	var returningSignUps []string
	for _, u := range p.returning {
		if len(o.signUps[u]) > 0 {
			returningSignUps = append(returningSignUps, u)
		}
	}
	assert.Empty(t, returningSignUps, "returning users tagged SignUp (%d; the first ten):%s", len(returningSignUps), explain(returningSignUps))

	var unmarked, marked, twiceMarked []string
	for _, u := range p.newUsers {
		switch n := o.patches[u]; {
		case n == 0:
			unmarked = append(unmarked, u)
		case n > 1:
			twiceMarked = append(twiceMarked, fmt.Sprintf("%s (%d)", u, n))
		}
	}
	for _, u := range p.returning {
		if o.patches[u] > 0 {
			marked = append(marked, u)
		}
	}
	assert.Empty(t, unmarked, "new users never updated in Auth0 (%d; the first ten):%s", len(unmarked), explain(unmarked))
	assert.Empty(t, marked, "returning users updated in Auth0")
	t.Logf("figures: %s: app_metadata updates: %d new users updated once, %d more than once, %d never",
		p.name, len(p.newUsers)-len(unmarked)-len(twiceMarked), len(twiceMarked), len(unmarked))
	if len(o.bothSources) > 0 {
		var twiceAndBoth int
		for _, u := range o.bothSources {
			if o.patches[u] > 1 {
				twiceAndBoth++
			}
		}
		t.Logf("figures: %s: %d new users had their first login tagged SignUp through both sources; %d of them were updated more than once; the first three:%s",
			p.name, len(o.bothSources), twiceAndBoth, explain(o.bothSources[:min(3, len(o.bothSources))]))
	}
	if !crashed {
		assert.Empty(t, o.bothSources, "new users with two SignUp events in Splunk, one per source of their first login")
		assert.Empty(t, twiceMarked, "new users updated more than once in Auth0 (%d; the first ten): %v", len(twiceMarked), twiceMarked[:min(10, len(twiceMarked))])
	} else if len(twiceMarked) > 0 {
		t.Logf("figures: %s: a replica killed mid-update: %d new users updated more than once, the first ten: %v",
			p.name, len(twiceMarked), twiceMarked[:min(10, len(twiceMarked))])
	}
}

// outcomes lists replica i's signup_records metric by outcome and basis.
func (s *replicaSet) outcomes(i int) string {
	var out []string
	for _, line := range strings.Split(s.replica(i).Scrape(), "\n") {
		if strings.HasPrefix(line, "otelcol_processor_signup_records{") {
			out = append(out, strings.TrimPrefix(line, "otelcol_processor_signup_records"))
		}
	}
	return strings.Join(out, "; ")
}

// claims sums the replicas' SignUp claims settled with Redis, by result.
func (s *replicaSet) claims() (won, heldElsewhere float64) {
	for i := range replicaCount {
		m := s.replica(i).Scrape()
		won += scrapeValue(m, "otelcol_processor_signup_claims", `result="won"`)
		heldElsewhere += scrapeValue(m, "otelcol_processor_signup_claims", `result="held_elsewhere"`)
	}
	return won, heldElsewhere
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// TestReplicas runs the DaemonSet's layout: three replicas of the binary
// sharing one redis-server for SignUp claims, one HEC endpoint and the
// fake Management API, in four phases on the same replicas and Redis:
//
//  1. plain: each new user's signup and first login reach two replicas at
//     the same moment, returning users log in through all three; a tenth
//     of the log stream batches reach another replica again later;
//  2. a replica killed (SIGKILL) mid-stream and restarted on its storage;
//  3. Redis killed mid-stream and restarted on its data: requests are
//     refused with 503 while it is down and retried;
//  4. a replica SIGTERMed while Splunk holds a backlog: it drains before it
//     exits (with the receiver's drain configured).
//
// Each phase: exactly one SignUp decision per new user, none for returning
// users, every acknowledged record at HEC (but a first login's copy dropped
// as the other source's SignUp), and every new user updated in Auth0:
// exactly once, with one SignUp event whatever the source, where no replica
// was killed. A "figures:" line
// per phase gives the counts. E2E_REPLICA_USERS scales the phases,
// E2E_REPLICA_SEED repeats their order.
func TestReplicas(t *testing.T) {
	newUsers, returning := replicaScale(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("E2E_REPLICA_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "E2E_REPLICA_SEED")
	}
	t.Logf("seed %d (E2E_REPLICA_SEED repeats the phases' order)", seed)
	started := time.Now()
	s := newReplicaSet(t)
	t.Logf("%d replicas started in %s", replicaCount, time.Since(started).Round(time.Millisecond))
	const spread = 5 * time.Second
	const settleTimeout = 2 * time.Minute

	t.Run("plain", func(t *testing.T) {
		p := s.newPhase("p1", newUsers, returning, seed)
		p.redeliver(10)
		wonBefore, heldBefore := s.claims()
		began := time.Now()
		a := s.send(t, p, spread, 0, nil)
		o := s.settle(p, a, settleTimeout)
		won, held := s.claims()
		won, held = won-wonBefore, held-heldBefore
		s.check(t, p, a, o, began, false, fmt.Sprintf("; claims won %.0f, held elsewhere %.0f", won, held))
		// Each new user's signup and first login both claim the user, at
		// the same moment on two replicas: one wins, the other (and any
		// copy) finds the claim held.
		// A claim Redis set whose answer timed out is counted by no one,
		// and its retry finds it held: at most one win per user.
		assert.LessOrEqual(t, won, float64(len(p.newUsers)), "claims won")
		assert.Positive(t, held, "claims found held by another record")
	})
	if t.Failed() {
		return
	}

	t.Run("replica killed", func(t *testing.T) {
		p := s.newPhase("p2", newUsers, returning, seed)
		began := time.Now()
		var down time.Duration
		var inflight int64
		a := s.send(t, p, spread, 0.3, func() {
			inflight = s.whileBusy(1, rand.New(rand.NewPCG(seed, 2)))
			killed := time.Now()
			s.replica(1).Kill()
			time.Sleep(2 * time.Second)
			s.start(1)
			down = time.Since(killed)
		})
		s.check(t, p, a, s.settle(p, a, settleTimeout), began, true, fmt.Sprintf("; replica 1 killed with %d requests in flight, down %s", inflight, down.Round(time.Millisecond)))
	})
	if t.Failed() {
		return
	}

	t.Run("redis killed", func(t *testing.T) {
		p := s.newPhase("p3", newUsers, returning, seed)
		began := time.Now()
		var down time.Duration
		var inflight int64
		a := s.send(t, p, spread, 0.3, func() {
			inflight = s.whileBusy(0, rand.New(rand.NewPCG(seed, 3)))
			killed := time.Now()
			s.redis.Kill()
			time.Sleep(3 * time.Second)
			s.redis.Restart()
			down = time.Since(killed)
		})
		s.check(t, p, a, s.settle(p, a, settleTimeout), began, false, fmt.Sprintf("; Redis killed with %d requests in flight at replica 0, down %s", inflight, down.Round(time.Millisecond)))
		assert.Positive(t, a.stats.refused503.Load(), "requests were refused with 503 while Redis was down")
		assert.Zero(t, a.stats.noRetryAfter.Load(), "503s without a Retry-After")
	})
	if t.Failed() {
		return
	}

	t.Run("replica terminated with a backlog", func(t *testing.T) {
		p := s.newPhase("p4", newUsers, returning, seed)
		began := time.Now()
		// Splunk refuses everything while the phase is sent: every replica
		// acknowledges into its persistent queue.
		s.hec.down.Store(true)
		a := s.send(t, p, spread, 0, nil)
		const victim = 2
		backlog := scrapeValue(s.replica(victim).Scrape(), "otelcol_exporter_queue_size", `exporter="splunk_hec"`)
		require.Positive(t, backlog, "replica %d holds a backlog", victim)
		// Splunk is back a moment after the SIGTERM: the replica delivers
		// its backlog during the drain, before it exits.
		go func() {
			time.Sleep(time.Second)
			s.hec.down.Store(false)
		}()
		stopped := time.Now()
		code := s.replica(victim).Terminate(replicaDrainTimeout + 30*time.Second)
		stop := time.Since(stopped)
		// What the replica acknowledged and HEC has not seen at its exit:
		// left on its disk, or a first login's copy it dropped as the other
		// source's SignUp, which may reach HEC later from another replica.
		got := s.hec.received()
		var notSeen []string
		for id, by := range a.acked {
			if by == victim && got[id] == 0 {
				notSeen = append(notSeen, id)
			}
		}
		assert.Equal(t, 0, code, "exit code after SIGTERM")
		// Started again on its storage, it delivers whatever it kept.
		s.start(victim)
		o := s.settle(p, a, settleTimeout)
		undelivered, _ := s.missing(notSeen)
		from := map[string]int{}
		late := map[string]bool{}
		for _, e := range s.hec.snapshot() {
			if slices.Contains(notSeen, e.ID) {
				from[replicaOf(e.Token)]++
				late[e.ID] = true
			}
		}
		undrained := slices.DeleteFunc(slices.Clone(notSeen), func(id string) bool { return !late[id] && !slices.Contains(undelivered, id) })
		sort.Strings(undrained)
		t.Logf("figures: p4: replica %d exited with %d of its records not at HEC: %d dropped as the other source's SignUp, %d left undelivered (arrived later from %v)",
			victim, len(notSeen), len(notSeen)-len(undrained), len(undrained), from)
		assert.Empty(t, undrained[:min(10, len(undrained))], "records replica %d acknowledged but had not delivered when it exited: %d (the first ten shown)", victim, len(undrained))
		s.check(t, p, a, o, began, false,
			fmt.Sprintf("; replica %d had a backlog of %.0f records, exited %d after %s", victim, backlog, code, stop.Round(time.Millisecond)))
	})

	for i := range replicaCount {
		assert.Equal(t, 0, s.replica(i).Terminate(2*time.Minute), "replica %d's exit code", i)
	}
	var out strings.Builder
	for i := range replicaCount {
		out.WriteString(s.replica(i).Output())
	}
	assertNoSecrets(t, out.String(), FakeClientSecret, Secret, HECToken)
	t.Logf("figures: total %s", time.Since(started).Round(time.Second))
}

// replicaFields are the index-time fields the HEC recorder reads.
var replicaFields = []string{"auth0.log_id", "auth0.event_id", "user.id", "auth0.event_basis"}

// scrapeValue sums the samples of a Prometheus metric whose labels contain
// every one of match (e.g. `result="won"`).
func scrapeValue(text, name string, match ...string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	sum := 0.0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		ok := true
		for _, want := range match {
			if !strings.Contains(m[1], want) {
				ok = false
			}
		}
		if ok {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}
