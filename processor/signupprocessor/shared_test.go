// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

// withRedis shares claims through srv.
func withRedis(cfg *Config, srv *redistest.Server) *Config {
	cfg.Redis.Endpoint = srv.Addr()
	cfg.Redis.TLS.Insecure = true
	cfg.Redis.Timeout = 500 * time.Millisecond
	return cfg
}

// twin is a second replica of e's collector: the same tenant and fake
// Management API, its own pipeline, telemetry and (when e has one) storage.
func (e *env) twin() *env {
	t := &env{t: e.t, fake: e.fake, fakeURL: e.fakeURL, domain: e.domain, next: &gatedConsumer{}}
	if e.dir != "" {
		t.dir = e.t.TempDir()
	}
	return t
}

// flaky refuses a share of the batches it is given, as a full queue does.
type flaky struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	refuse float64
	sink   consumertest.LogsSink
}

func (f *flaky) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f *flaky) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	f.mu.Lock()
	refused := f.rnd.Float64() < f.refuse
	f.mu.Unlock()
	if refused {
		return errors.New("sending queue is full")
	}
	return f.sink.ConsumeLogs(ctx, ld)
}

// signUpClasses lists, per user, the distinct records delivered tagged
// SignUp, a login's Action payload and log stream record counting as one.
func signUpClasses(sinks ...*consumertest.LogsSink) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, sink := range sinks {
		for _, logs := range sink.AllLogs() {
			for i := range logs.ResourceLogs().Len() {
				for j := range logs.ResourceLogs().At(i).ScopeLogs().Len() {
					records := logs.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
					for k := range records.Len() {
						v := auth0event.NewView(records.At(k).Attributes(), records.At(k).Body())
						if v.Str(auth0event.AttrEvent) != auth0event.EventSignUp {
							continue
						}
						user := v.Str(auth0event.AttrUserID)
						class := v.ID()
						if n, ok := v.LoginsCount(); ok {
							if ti, _ := v.Type(); ti.Kind == auth0event.KindLogin {
								class = fmt.Sprintf("login#%d", n)
							}
						}
						if out[user] == nil {
							out[user] = map[string]bool{}
						}
						out[user][class] = true
					}
				}
			}
		}
	}
	return out
}

// Two replicas sharing one Redis, each user's records (signup, first login
// through the log stream and through the Action, later logins) spread over
// both at random, in random batches, a fifth of the batches refused
// downstream and retried on either replica: each new user gets exactly one
// SignUp (one record, or one login seen through both sources), delivered;
// returning users none.
func TestTwoReplicasOneSignUpPerUser(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	srv := redistest.Start(t)

	a := newEnv(t)
	b := a.twin()
	var replicas []*signupProcessor
	var sinks []*consumertest.LogsSink
	for i, e := range []*env{a, b} {
		cfg := withRedis(e.config(), srv)
		cfg.Lookups.Enabled = false
		f := &flaky{rnd: rand.New(rand.NewPCG(seed, uint64(i+2))), refuse: 0.2}
		replicas = append(replicas, e.startWithNext(cfg, f))
		sinks = append(sinks, &f.sink)
	}

	const newUsers, returning = 300, 60
	var payloads [][]byte
	for u := range newUsers {
		user := fmt.Sprintf("auth0|new%04d", u)
		payloads = append(payloads,
			auth0test.Lines(ev{LogID: fmt.Sprintf("ss-%d", u), Type: "ss", UserID: user}),
			auth0test.Lines(ev{LogID: fmt.Sprintf("s1-%d", u), UserID: user, LoginsCount: 1}),
			auth0test.ActionEvent{EventID: fmt.Sprintf("evt-%d", u), UserID: user, LoginsCount: 1, AppMetadata: map[string]any{}}.JSON(),
		)
		if rnd.IntN(2) == 0 {
			payloads = append(payloads, auth0test.Lines(ev{LogID: fmt.Sprintf("s2-%d", u), UserID: user, LoginsCount: 2}))
		}
	}
	for u := range returning {
		user := fmt.Sprintf("auth0|old%04d", u)
		for n := range 3 {
			payloads = append(payloads, auth0test.Lines(ev{LogID: fmt.Sprintf("old-%d-%d", u, n), UserID: user, LoginsCount: 5 + n}))
		}
	}
	rnd.Shuffle(len(payloads), func(i, j int) { payloads[i], payloads[j] = payloads[j], payloads[i] })

	// Four senders, each taking batches of 1 to 8 payloads and sending
	// each to a random replica until one accepts it.
	var mu sync.Mutex
	next := 0
	take := func(r *rand.Rand) [][]byte {
		mu.Lock()
		defer mu.Unlock()
		n := min(1+r.IntN(8), len(payloads)-next)
		batch := payloads[next : next+n]
		next += n
		return batch
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for s := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(10+s)))
			for {
				batch := take(r)
				if len(batch) == 0 {
					return
				}
				for try := 0; ; try++ {
					//nolint:testifylint // wg.Done is deferred: a FailNow here ends this goroutine and fails the test
					err := replicas[r.IntN(2)].ConsumeLogs(context.Background(), toLogs(t, batch...))
					if err == nil {
						break
					}
					if consumererror.IsPermanent(err) || try > 100 {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	classes := signUpClasses(sinks...)
	var doubled, missing []string
	for u := range newUsers {
		user := fmt.Sprintf("auth0|new%04d", u)
		switch n := len(classes[user]); {
		case n == 0:
			missing = append(missing, user)
		case n > 1:
			doubled = append(doubled, fmt.Sprintf("%s %v", user, classes[user]))
		}
	}
	for u := range returning {
		user := fmt.Sprintf("auth0|old%04d", u)
		assert.Empty(t, classes[user], "a returning user gets no SignUp: %s", user)
	}
	assert.Empty(t, doubled, "users with two SignUp decisions")
	assert.Empty(t, missing, "users whose SignUp was never delivered")
	var won, held int64
	for _, e := range []*env{a, b} {
		won += claimsCounted(e, claimWon)
		held += claimsCounted(e, claimHeld)
	}
	assert.Equal(t, int64(newUsers), won, "one claim won per new user")
	t.Logf("figures: claims won %d, held elsewhere %d, redelivered SignUps %d", won, held, a.recordsCounted(outcomeSignUpRedelivery)+b.recordsCounted(outcomeSignUpRedelivery))
}

func claimsCounted(e *env, result string) int64 {
	return counted(e, "otelcol_processor_signup_claims", "result", result)
}

func claimReadsCounted(e *env, reason string) int64 {
	return counted(e, "otelcol_processor_signup_claim_reads", "reason", reason)
}

// countedAll sums the points of a counter.
func countedAll(e *env, name string) int64 {
	m, err := e.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

// counted sums the points of a counter whose attribute key is value.
func counted(e *env, name, key, value string) int64 {
	m, err := e.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value(attribute.Key(key)); ok && v.AsString() == value {
			n += dp.Value
		}
	}
	return n
}

// Redis down: a request that needs a claim is refused for a retry (not
// permanently) within the timeout; records that need none, and users this
// replica knows, flow. Back up, the same request is the user's one SignUp.
func TestRedisDownRefusesClaimsOnly(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	cfg := withRedis(e.config(), srv)
	cfg.Lookups.Enabled = false
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "k1", Type: "ss", UserID: "auth0|known"})))

	srv.Kill()
	newUser := auth0test.Lines(ev{LogID: "n1", Type: "ss", UserID: "auth0|new"})
	started := time.Now()
	err := e.consume(newUser)
	require.ErrorIs(t, err, errSharedUnavailable)
	assert.False(t, consumererror.IsPermanent(err), "the sender is to retry")
	assert.Less(t, time.Since(started), 3*time.Second, "a claim waits for the store no longer than its timeout")
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "k2", UserID: "auth0|known", LoginsCount: 2},
		ev{LogID: "f1", Type: "f", UserID: "auth0|someone"},
		ev{LogID: "p1", Type: "sepft", UserID: "auth0|other"},
	)), "records that need no claim flow while Redis is down: a user whose claim this replica knows, a failure, a password exchange")
	// A login of a user this replica knows nothing of may be the SignUp
	// another replica claimed (after a lookup found the user unmarked): it
	// waits for Redis too.
	err = e.consume(auth0test.Lines(ev{LogID: "o1", UserID: "auth0|old", LoginsCount: 9}))
	require.ErrorIs(t, err, errSharedUnavailable)
	assert.Equal(t, int64(2), claimsCounted(e, claimRefusedUnavailable))

	srv.Restart()
	require.NoError(t, e.consume(newUser))
	require.NoError(t, e.consume(newUser))
	assert.Equal(t, map[string]int{"auth0|known": 1, "auth0|new": 1}, e.countEvents("SignUp"), "the refused record, delivered again, is the SignUp; its copy after that is dropped as delivered")
	assert.Equal(t, int64(1), e.recordsCounted(outcomeDroppedDuplicate))
}

// decide_locally: nothing waits for a store that is down; each claim
// decided so is counted.
func TestRedisDownDecideLocally(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	cfg := withRedis(e.config(), srv)
	cfg.Redis.WhenUnavailable = WhenUnavailableDecideLocally
	cfg.Lookups.Enabled = false
	srv.Kill()
	e.start(cfg) // a store down at start does not stop the collector
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "n1", Type: "ss", UserID: "auth0|new"})))
	assert.Equal(t, map[string]int{"auth0|new": 1}, e.countEvents("SignUp"))
	assert.Equal(t, int64(1), claimsCounted(e, claimDecidedLocally))
	require.Eventually(t, func() bool { return e.logs.FilterMessageSnippet("does not answer").Len() > 0 }, 10*time.Second, 10*time.Millisecond,
		"the store being down is logged")
}

// twoReplicas is a redis-server and two replicas' environments of one
// tenant, whose fake Management API holds user, unmarked; neither replica
// is started.
func twoReplicas(t *testing.T, user string) (*redistest.Server, *env, *env) {
	t.Helper()
	srv := redistest.Start(t)
	a := newEnv(t)
	a.fake.AddUser(user, map[string]any{})
	return srv, a, a.twin()
}

// The same record reaches two replicas at once and they see it
// differently: one looks the user up, finds them unmarked and claims the
// record as their SignUp, but its pipeline refuses it; the other, without
// the lookup, delivers the record as a Login, and the sender, answered,
// never sends it again. The claim's record never reaches Splunk as the
// SignUp, so Auth0 must not mark the user: an update is queued only when a
// claim is confirmed.
func TestRefusedClaimDeliveredElsewhereAsALoginMarksNoOne(t *testing.T) {
	srv, a, b := twoReplicas(t, "auth0|hedged")
	cfgA := withRedis(a.config(), srv)
	cfgA.Lookups.Enabled = false
	a.start(cfgA)
	b.start(withRedis(b.config(), srv))

	record := auth0test.Lines(ev{LogID: "h1", UserID: "auth0|hedged"})
	require.NoError(t, a.consume(record), "one replica delivers the record")
	assert.Equal(t, map[string]int{"auth0|hedged": 1}, a.countEvents(auth0event.EventLogin), "nothing tells it the user is new")
	b.next.setErr(errors.New("sending queue is full"))
	require.Error(t, b.consume(record), "the claiming replica's pipeline refuses the copy")
	assert.Equal(t, int64(1), claimsCounted(b, claimWon), "the copy claimed the user's SignUp")

	n, err := srv.Client().XLen(context.Background(), b.proc.redisClaims.updateStream()).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "no app_metadata update is queued for a claim whose record was not delivered")
	a.stop()
	b.stop()
	assert.Empty(t, a.fake.Requests(http.MethodPatch, "/api/v2/users/"), "the user is not marked")
	assert.Empty(t, a.fake.AppMetadata("auth0|hedged"))
}

// The shared store stops answering between a claim and its confirmation:
// the records were delivered, but the batch is refused, so that its
// sender delivers it again. The copy is the SignUp again, confirmed then,
// unless the replica's own confirmation, sent again once the store is
// back, came first: then it is dropped as delivered. The user is marked
// once.
func TestSharedConfirmationFailureRefusesTheBatch(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	e.fake.AddUser("auth0|c", map[string]any{})
	cfg := withRedis(e.config(), srv)
	cfg.Lookups.Enabled = false
	next := &killingConsumer{kill: srv.Kill}
	e.startWithNext(cfg, next)

	record := auth0test.Lines(ev{LogID: "c1", Type: "ss", UserID: "auth0|c"})
	err := e.consume(record)
	require.ErrorIs(t, err, errSharedUnavailable, "a delivered SignUp that could not be confirmed refuses its batch")
	assert.False(t, consumererror.IsPermanent(err), "the sender is to retry")
	assert.Equal(t, int64(1), claimsCounted(e, claimConfirmFailed))

	srv.Restart()
	require.NoError(t, e.consume(record))
	require.NoError(t, e.consume(record))
	signUps := 0
	for _, logs := range next.sink.AllLogs() {
		signUps += logs.LogRecordCount()
	}
	assert.Contains(t, []int{1, 2}, signUps, "the record delivered again after the failed confirmation is the SignUp again or dropped as delivered")
	assert.Equal(t, int64(signUps-1), e.recordsCounted(outcomeSignUpRedelivery))
	assert.Equal(t, int64(3-signUps), e.recordsCounted(outcomeDroppedDuplicate), "a copy after the confirmation is dropped")
	require.Eventually(t, func() bool { return len(e.fake.Requests(http.MethodPatch, "/api/v2/users/")) == 1 }, 10*time.Second, 10*time.Millisecond,
		"the user is marked once the SignUp is confirmed")
	e.stop()
	assert.Len(t, e.fake.Requests(http.MethodPatch, "/api/v2/users/"), 1)
}

// killingConsumer delivers the first batch and stops the shared store
// while doing so; later batches are delivered.
type killingConsumer struct {
	once sync.Once
	kill func()
	sink consumertest.LogsSink
}

func (c *killingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *killingConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.once.Do(c.kill)
	return c.sink.ConsumeLogs(ctx, ld)
}

// A copy of one record reaches two replicas at once: one delivers it as a
// Login and is answered; the other claims it, delivers it as the SignUp,
// and the shared store stops answering before the confirmation. No retry
// comes (the sender was answered), so the replica sends the confirmation
// again once the store is back, and the user is marked.
func TestUnansweredConfirmationIsSentAgain(t *testing.T) {
	srv, a, b := twoReplicas(t, "auth0|hedged")
	cfgA := withRedis(a.config(), srv)
	cfgA.Lookups.Enabled = false
	a.start(cfgA)
	next := &killingConsumer{kill: srv.Kill}
	b.startWithNext(withRedis(b.config(), srv), next)

	record := auth0test.Lines(ev{LogID: "h1", UserID: "auth0|hedged"})
	require.NoError(t, a.consume(record))
	require.ErrorIs(t, b.consume(record), errSharedUnavailable)
	require.Equal(t, 1, next.sink.LogRecordCount())
	srv.Restart()
	require.Eventually(t, func() bool { return len(a.fake.Requests(http.MethodPatch, "/api/v2/users/")) == 1 }, 10*time.Second, 10*time.Millisecond,
		"the user whose SignUp was delivered is marked")
	held, err := b.proc.redisClaims.peek(context.Background(), []string{"auth0|hedged"})
	require.NoError(t, err)
	assert.Equal(t, &signupIdentity{User: "auth0|hedged", Record: "h1", Confirmed: true}, held[0])
	assert.Zero(t, b.proc.users.shared.owedCount())
}

// cancellingConsumer cancels the caller's context while it delivers (the
// HTTP client went away), and accepts.
type cancellingConsumer struct {
	once   sync.Once
	cancel context.CancelFunc
	sink   consumertest.LogsSink
}

func (c *cancellingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *cancellingConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.once.Do(c.cancel)
	return c.sink.ConsumeLogs(ctx, ld)
}

// A caller that gives up while its records are delivered does not stop
// their confirmation: the records are in the pipeline, and the copy its
// sender retries with is dropped as delivered, so only the confirmation
// can mark the user.
func TestConfirmationOutlivesTheCaller(t *testing.T) {
	for _, mode := range []string{WhenUnavailableRefuse, WhenUnavailableDecideLocally} {
		t.Run(mode, func(t *testing.T) {
			srv := redistest.Start(t)
			e := newEnv(t)
			e.fake.AddUser("auth0|c", map[string]any{})
			cfg := withRedis(e.config(), srv)
			cfg.Redis.WhenUnavailable = mode
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			next := &cancellingConsumer{cancel: cancel}
			e.startWithNext(cfg, next)
			record := auth0test.Lines(ev{LogID: "c1", Type: "ss", UserID: "auth0|c"})
			require.NoError(t, e.proc.ConsumeLogs(ctx, toLogs(t, record)))
			require.NoError(t, e.consume(record), "the sender, never answered, retries")
			assert.Equal(t, int64(1), e.recordsCounted(outcomeDroppedDuplicate))
			assert.Zero(t, claimsCounted(e, claimConfirmFailed))
			require.Eventually(t, func() bool { return len(e.fake.Requests(http.MethodPatch, "/api/v2/users/")) == 1 }, 10*time.Second, 10*time.Millisecond,
				"the user is marked")
		})
	}
}

// The claim reads metric tells an operator which users' records depend on
// Redis, and so wait while it is down: a user the replica knows nothing
// of is read once, as is one Auth0 says is signed up; a user known only by
// a count is read on every batch.
func TestClaimReadsSayWhyRecordsWaitForRedis(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	e.start(withRedis(e.config(), srv)) // auth0|counted is unknown to Auth0: its lookup finds no one

	for i := range 3 {
		require.NoError(t, e.consume(auth0test.Lines(
			ev{LogID: fmt.Sprintf("m%d", i), UserID: "auth0|marked", LoginsCount: 5 + i},
			ev{LogID: fmt.Sprintf("c%d", i), UserID: "auth0|counted", LoginsCount: 5 + i},
		)))
	}
	assert.Equal(t, map[string]int{"auth0|marked": 3, "auth0|counted": 3}, e.countEvents(auth0event.EventLogin))
	assert.Equal(t, int64(2), claimReadsCounted(e, "unknown_user"), "both users, on the first batch")
	assert.Equal(t, int64(1), claimReadsCounted(e, "signed_up"), "the marked user, once: then they are known to hold no claim")
	assert.Equal(t, int64(2), claimReadsCounted(e, "by_count"), "the user known by a count, on every later batch")
}

// Two copies of one login reach two replicas, and they see it two ways:
// B's lookup fails, so it takes the count above one for a signed-up user;
// A's lookup finds the user unmarked. B registers its Login before
// delivering, so A's claim of the same record loses to it: the login is a
// Login on both, and whichever replica answers the sender's retries, no
// claim is left holding a record that never became the SignUp. The user's
// next login is their SignUp (unmarked in Auth0, as the Rule made it), and
// they are marked once.
func TestAClaimOfARecordRegisteredAsALoginIsALogin(t *testing.T) {
	srv, a, b := twoReplicas(t, "auth0|u")
	b.start(withRedis(b.config(), srv))
	a.start(withRedis(a.config(), srv))

	second := auth0test.Lines(ev{LogID: "l2", UserID: "auth0|u", LoginsCount: 2})
	b.fake.FailNext(http.StatusServiceUnavailable)
	require.NoError(t, b.consume(second), "the replica whose lookup failed")
	assert.Equal(t, int64(1), countedAll(b, "otelcol_processor_signup_logins_registered"), "registers its Login")

	a.next.setErr(errors.New("sending queue is full"))
	require.Error(t, a.consume(second), "the other replica's pipeline refuses its copy")
	a.next.setErr(nil)
	require.NoError(t, a.consume(second), "and takes the sender's retry")
	assert.Equal(t, int64(2), claimsCounted(a, claimLostToLogin), "its claims of the record lose to the Login")
	assert.Equal(t, map[string]int{"auth0|u": 1}, a.countEvents(auth0event.EventLogin))
	assert.Equal(t, []string{basisOtherReplica}, basesOf(a.tags()))
	held, err := a.proc.redisClaims.peek(context.Background(), []string{"auth0|u"})
	require.NoError(t, err)
	assert.Nil(t, held[0], "no claim holds the record")

	require.NoError(t, a.consume(auth0test.Lines(ev{LogID: "l3", UserID: "auth0|u", LoginsCount: 3})), "the user's next login")
	assert.Equal(t, map[string]int{"auth0|u": 1}, a.countEvents(auth0event.EventSignUp), "is their SignUp")
	require.Eventually(t, func() bool { return len(a.fake.Requests(http.MethodPatch, "/api/v2/users/")) == 1 }, 10*time.Second, 10*time.Millisecond,
		"the user is marked")
}

// Every login of a user in one batch was registered as a Login by a
// replica whose lookup failed; the other replica's lookup finds the user
// unmarked and claims one login after another, each losing to its
// registration. The batch ends with every login a Login on both replicas,
// not refused, and the registrations renewed.
func TestClaimsLosingToEveryLoginOfABatchEndAsLogins(t *testing.T) {
	srv, a, b := twoReplicas(t, "auth0|u")
	b.start(withRedis(b.config(), srv))
	a.start(withRedis(a.config(), srv))

	var logins []ev
	for n := 2; n <= 13; n++ {
		logins = append(logins, ev{LogID: fmt.Sprintf("l%d", n), UserID: "auth0|u", LoginsCount: n})
	}
	batch := auth0test.Lines(logins...)
	b.fake.FailNext(http.StatusServiceUnavailable)
	require.NoError(t, b.consume(batch), "the replica whose lookup failed")
	assert.Equal(t, int64(len(logins)), countedAll(b, "otelcol_processor_signup_logins_registered"))

	require.NoError(t, a.consume(batch), "the other replica settles its claims in as many round trips as it takes")
	assert.Equal(t, map[string]int{"auth0|u": len(logins)}, a.countEvents(auth0event.EventLogin))
	assert.Equal(t, int64(len(logins)), claimsCounted(a, claimLostToLogin))
	held, err := a.proc.redisClaims.peek(context.Background(), []string{"auth0|u"})
	require.NoError(t, err)
	assert.Nil(t, held[0])
}

// The other order: A claims the login (its lookup found the user unmarked)
// and its pipeline refuses it, while B, whose lookup failed, decides its
// copy a Login by the count. B's registration finds A's claim: the copy B
// holds is the SignUp again, confirmed there, and the user is marked. Had
// B delivered the Login, the sender's retry would have reached B and been
// dropped as delivered, and the claim would have held a record that never
// became the SignUp.
func TestALoginRegisteredAfterAClaimOfItsRecordIsTheSignUpAgain(t *testing.T) {
	srv, a, b := twoReplicas(t, "auth0|u")
	b.start(withRedis(b.config(), srv))
	a.start(withRedis(a.config(), srv))

	second := auth0test.Lines(ev{LogID: "l2", UserID: "auth0|u", LoginsCount: 2})
	var claimErr error
	b.proc.users.shared.arbiter = &beforeSettle{claimArbiter: b.proc.users.shared.arbiter, hook: func() {
		// Between B's read of the user's claim (none yet) and its
		// registration: A claims the record and its pipeline refuses it.
		a.next.setErr(errors.New("sending queue is full"))
		claimErr = a.consume(second)
	}}
	b.fake.FailNext(http.StatusServiceUnavailable)
	require.NoError(t, b.consume(second), "the replica whose lookup failed")
	require.Error(t, claimErr, "the claimer's pipeline refused its copy")
	assert.Equal(t, int64(1), claimsCounted(a, claimWon))

	assert.Equal(t, map[string]int{"auth0|u": 1}, b.countEvents(auth0event.EventSignUp), "the registration learned the claim: the copy is the SignUp again")
	assert.Empty(t, b.countEvents(auth0event.EventLogin))
	require.Eventually(t, func() bool { return len(b.fake.Requests(http.MethodPatch, "/api/v2/users/")) == 1 }, 10*time.Second, 10*time.Millisecond,
		"the user whose SignUp was delivered is marked")
	held, err := b.proc.redisClaims.peek(context.Background(), []string{"auth0|u"})
	require.NoError(t, err)
	assert.Equal(t, &signupIdentity{User: "auth0|u", Record: "l2", Login: "auth0|u#2", Confirmed: true}, held[0])
}

// A batch that claims a user registers none of their Logins: any claim
// another replica makes of a record of theirs loses to this one. Here the
// user's later login, out of order, comes first in the batch, a Login by
// its count (the signup record beside it spares the lookup), then their
// signup record claims: one
// SignUp, not a redelivery of a claim found in Redis (which would have
// waited for its confirmation), and no key but the claim in Redis.
func TestABatchThatClaimsAUserRegistersNoneOfTheirLogins(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	e.start(withRedis(e.config(), srv))

	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "l3", UserID: "auth0|new", LoginsCount: 3},
		ev{LogID: "s1", UserID: "auth0|new", Type: "ss"},
	)))
	assert.Equal(t, []tag{
		{User: "auth0|new", Event: auth0event.EventLogin, Basis: basisLoginsCount, ID: "l3"},
		{User: "auth0|new", Event: auth0event.EventSignUp, Basis: basisSignupType, ID: "s1"},
	}, e.tags())
	assert.Equal(t, int64(1), e.recordsCounted(outcomeSignUp))
	assert.Zero(t, e.recordsCounted(outcomeSignUpRedelivery))
	assert.Zero(t, countedAll(e, "otelcol_processor_signup_logins_registered"))
	keys, err := srv.Client().Keys(context.Background(), "*:login:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
}

// beforeSettle runs hook once, before the first settle it passes on.
type beforeSettle struct {
	claimArbiter
	hook func()
}

func (h *beforeSettle) settle(ctx context.Context, reqs []settleRequest) ([]settleAnswer, error) {
	if hook := h.hook; hook != nil {
		h.hook = nil
		hook()
	}
	return h.claimArbiter.settle(ctx, reqs)
}

// A user known by a count is read from Redis on every batch, so their
// records wait while Redis is down, only until they are looked up again:
// found marked in Auth0, they are read once more and never again, and
// Redis going away no longer holds up their records.
func TestALookupAgainEndsTheReadsOfAUserKnownByCount(t *testing.T) {
	srv := redistest.Start(t)
	e := newEnv(t)
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	cfg := withRedis(e.config(), srv)
	cfg.Lookups.Cooldown = 0
	cfg.Lookups.RecheckByCountAfter = 300 * time.Millisecond
	e.start(cfg)
	login := func(n int) []byte {
		return auth0test.Lines(ev{LogID: fmt.Sprintf("l%d", n), UserID: "auth0|marked", LoginsCount: n})
	}

	e.fake.FailNext(http.StatusServiceUnavailable)
	require.NoError(t, e.consume(login(5)), "the lookup fails: known by the count")
	require.NoError(t, e.consume(login(6)))
	assert.Equal(t, int64(1), claimReadsCounted(e, "by_count"))

	time.Sleep(cfg.Lookups.RecheckByCountAfter)
	require.NoError(t, e.consume(login(7)), "looked up again: marked")
	require.NoError(t, e.consume(login(8)))
	require.NoError(t, e.consume(login(9)))
	assert.Equal(t, int64(2), claimReadsCounted(e, "by_count"), "read with the batch that looked them up again, which came after the read")
	assert.Equal(t, int64(1), claimReadsCounted(e, "signed_up"), "then once as signed up by Auth0's word, then never")

	srv.Kill()
	require.NoError(t, e.consume(login(10)), "no claim to wait for")
	assert.Equal(t, map[string]int{"auth0|marked": 6}, e.countEvents(auth0event.EventLogin))
	assert.Equal(t, []string{basisLoginsCount, basisStore, basisLookup, basisStore, basisStore, basisStore}, basesOf(e.tags()))
}

func basesOf(tags []tag) []string {
	bases := make([]string, len(tags))
	for i, tg := range tags {
		bases[i] = tg.Basis
	}
	return bases
}
