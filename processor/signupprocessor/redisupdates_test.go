// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

// redisEnv is a real redis-server, the fake Management API reached
// through go-auth0, and the stream of updates the SignUp claims fill.
type redisEnv struct {
	*env
	srv    *redistest.Server
	rdb    *redis.Client
	stream string
	tel    *componenttest.Telemetry
	tb     *metadata.TelemetryBuilder
	logs   *observer.ObservedLogs
	logger *zap.Logger
}

func newRedisEnv(t *testing.T) *redisEnv {
	t.Helper()
	e := &redisEnv{env: newEnv(t), srv: redistest.Start(t)}
	e.fake.SetAutoCreate(true)
	e.rdb = e.srv.Client()
	e.stream = "otelcol-auth0:{" + e.domain + "}:updates"
	e.tel = componenttest.NewTelemetry()
	t.Cleanup(func() { _ = e.tel.Shutdown(context.Background()) })
	tb, err := metadata.NewTelemetryBuilder(metadatatest.NewSettings(e.tel).TelemetrySettings)
	require.NoError(t, err)
	e.tb = tb
	core, logs := observer.New(zap.DebugLevel)
	e.logger, e.logs = zap.New(core), logs
	return e
}

// consumer starts a replica's consumer of the stream, with its own Redis
// connection and Management API client; lease 0 keeps the default.
func (e *redisEnv) consumer(workers int, lease time.Duration, secret string) *redisUpdates {
	e.t.Helper()
	cfg := e.config()
	cfg.Updates.Workers = workers
	cfg.ManagementAPI.RateLimit.WritesPerSecond, cfg.ManagementAPI.RateLimit.WriteBurst = 1000, 100
	if secret != "" {
		cfg.ManagementAPI.ClientSecret = configopaque.String(secret)
	}
	api, err := mgmtapi.New(context.Background(), cfg.ManagementAPI, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
	require.NoError(e.t, err)
	e.t.Cleanup(api.Close)
	if lease > 0 {
		cfg.Updates.Lease = lease
	}
	u := newRedisUpdates(e.srv.Client(), e.stream, api, cfg.SignedUpKey, cfg.Updates, e.logger, e.tb)
	u.start()
	e.t.Cleanup(func() { u.stop(context.Background(), 0) })
	return u
}

// add appends updates as the confirm script does.
func (e *redisEnv) add(users ...string) {
	e.t.Helper()
	for _, u := range users {
		require.NoError(e.t, e.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: e.stream, Values: []any{"user", u}}).Err())
	}
}

// waitApplied waits until every user is marked and the stream is empty.
func (e *redisEnv) waitApplied(timeout time.Duration, users ...string) {
	e.t.Helper()
	left := func() (int, int64) {
		missing := 0
		for _, u := range users {
			if e.fake.AppMetadata(u)["signedUp"] != true {
				missing++
			}
		}
		n, _ := e.rdb.XLen(context.Background(), e.stream).Result()
		return missing, n
	}
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		m, n := left()
		if m == 0 && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %s: %d of %d users not marked, %d entries left in the stream", timeout, m, len(users), n)
		}
	}
}

func (e *redisEnv) counted(result string) int64 {
	m, err := e.tel.GetMetric("otelcol_processor_signup_updates")
	if err != nil {
		return 0
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value("result"); ok && v.AsString() == result {
			return dp.Value
		}
	}
	return 0
}

// pending is the number of entries taken and not done; -1 before the
// group exists.
func (e *redisEnv) pending() int64 {
	p, err := e.rdb.XPending(context.Background(), e.stream, redisUpdateGroup).Result()
	if err != nil {
		return -1
	}
	return p.Count
}

// testRand is a random source whose seed the test logs; REDISUPDATES_SEED
// replays one.
func testRand(t *testing.T) *rand.Rand {
	seed := rand.Uint64()
	if v := os.Getenv("REDISUPDATES_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (REDISUPDATES_SEED replays it)", seed)
	return rand.New(rand.NewPCG(seed, 7))
}

func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("auth0|%s-%d", prefix, i)
	}
	return out
}

// Several replicas, each with several workers, consume one stream while
// it is filled: every update is applied exactly once, and every entry is
// gone once done.
func TestRedisUpdatesApplyEachOnce(t *testing.T) {
	rnd := testRand(t)
	e := newRedisEnv(t)
	e.fake.SetLatency(time.Duration(rnd.IntN(3)) * time.Millisecond)
	all := users("once", 100+rnd.IntN(200))
	replicas := 2 + rnd.IntN(3)
	e.add(all[:len(all)/2]...)
	for range replicas {
		e.consumer(1+rnd.IntN(3), 0, "")
	}
	e.add(all[len(all)/2:]...)
	e.waitApplied(20*time.Second, all...)
	assert.Len(t, e.patches(), len(all))
	for u, n := range e.patches() {
		assert.Equal(t, 1, n, "%s patched %d times", u, n)
	}
	assert.Equal(t, int64(len(all)), e.counted(updateOK))
	assert.Zero(t, e.pending())
}

// A replica that stops (drain over) in the middle of updates the API
// refuses leaves them pending; another replica takes them over once
// their lease ran out, and applies them.
func TestRedisUpdatesOfAStoppedReplicaAreTakenOver(t *testing.T) {
	e := newRedisEnv(t)
	lease := 300 * time.Millisecond
	e.fake.FailNext(repeatStatus(http.StatusServiceUnavailable, 100000)...)
	first := e.consumer(2, lease, "")
	all := users("over", 20)
	e.add(all...)
	require.Eventually(t, func() bool { return e.pending() == 2 }, 5*time.Second, 10*time.Millisecond, "the first replica took two entries")
	first.stop(context.Background(), 0)
	assert.Equal(t, int64(2), e.pending(), "what it worked on stays pending")

	e.fake.ClearFailures()
	e.consumer(1, lease, "")
	e.waitApplied(10*time.Second, all...)
	for u, n := range e.patches() {
		assert.Equal(t, 1, n, "%s patched %d times", u, n)
	}
}

// A consumer that died (took entries and never answered again) has them
// taken over after a lease: here entries read under a consumer name that
// no process runs.
func TestRedisUpdatesOfADeadReplicaAreTakenOver(t *testing.T) {
	e := newRedisEnv(t)
	ctx := context.Background()
	all := users("dead", 10)
	e.add(all...)
	require.NoError(t, e.rdb.XGroupCreateMkStream(ctx, e.stream, redisUpdateGroup, "0").Err())
	read, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: redisUpdateGroup, Consumer: "dead-replica", Streams: []string{e.stream, ">"}, Count: 4, Block: -1}).Result()
	require.NoError(t, err)
	require.Len(t, read[0].Messages, 4)

	start := time.Now()
	e.consumer(2, 500*time.Millisecond, "")
	e.waitApplied(10*time.Second, all...)
	assert.Greater(t, time.Since(start), 400*time.Millisecond, "the dead replica's entries waited for their lease")
	assert.Len(t, e.patches(), len(all))
}

// A replica retrying one update for longer than a lease keeps it: its
// renewals stop another replica from taking it over.
func TestRedisUpdatesALiveReplicaKeepsItsEntries(t *testing.T) {
	e := newRedisEnv(t)
	lease := 300 * time.Millisecond
	e.fake.FailNext(repeatStatus(http.StatusInternalServerError, 100000)...)
	e.consumer(1, lease, "")
	e.add("auth0|slow")
	require.Eventually(t, func() bool { return e.pending() == 1 }, 5*time.Second, 10*time.Millisecond)
	other := e.consumer(1, lease, "")
	time.Sleep(5 * lease)
	assert.Zero(t, e.countFor(other), "the other replica took over an entry in progress")
	e.fake.ClearFailures()
	e.waitApplied(10*time.Second, "auth0|slow")
	assert.Equal(t, map[string]int{"auth0|slow": 1}, e.patches())
}

// countFor is how many entries are pending for u's consumer.
func (e *redisEnv) countFor(u *redisUpdates) int64 {
	p, err := e.rdb.XPending(context.Background(), e.stream, redisUpdateGroup).Result()
	require.NoError(e.t, err)
	return p.Consumers[u.consumer]
}

// A 429 makes the update wait for the tenant's reset, then it is applied.
func TestRedisUpdatesWaitForTheRateLimitReset(t *testing.T) {
	e := newRedisEnv(t)
	e.fake.SetRateLimit(1, 1)
	e.consumer(2, 0, "")
	all := users("limited", 3)
	e.add(all...)
	e.waitApplied(15*time.Second, all...)
	assert.Positive(t, e.counted(updateRateLimited))
	assert.Equal(t, int64(3), e.counted(updateOK))
}

// Wrong credentials keep every entry (warned about once), and the
// replica that has the right ones applies them.
func TestRedisUpdatesKeepEntriesOnUnauthorized(t *testing.T) {
	e := newRedisEnv(t)
	wrong := e.consumer(2, 300*time.Millisecond, "wrong-secret")
	all := users("unauth", 10)
	e.add(all...)
	require.Eventually(t, func() bool { return e.counted(updateRetried) >= 4 }, 10*time.Second, 10*time.Millisecond)
	n, err := e.rdb.XLen(context.Background(), e.stream).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(len(all)), n, "no entry is dropped")
	require.Eventually(t, func() bool { return wrong.depth() == len(all) }, 5*time.Second, 50*time.Millisecond, "depth")
	assert.Equal(t, 1, e.logs.FilterMessageSnippet("refuses the credentials").Len(), "warned once")
	wrong.stop(context.Background(), 0)

	right := e.consumer(2, 300*time.Millisecond, "")
	e.waitApplied(10*time.Second, all...)
	require.Eventually(t, func() bool { return right.depth() == 0 }, 5*time.Second, 50*time.Millisecond, "depth")
}

// Redis down when the replica starts, and killed and restarted (on its
// append-only file) while updates flow: nothing is lost, nothing applied
// twice, and nothing crashes.
func TestRedisUpdatesSurviveARedisRestart(t *testing.T) {
	e := newRedisEnv(t)
	e.srv.Kill()
	e.consumer(2, 0, "")
	time.Sleep(1500 * time.Millisecond)
	e.srv.Restart()
	e.fake.SetLatency(2 * time.Millisecond)
	all := users("restart", 300)
	e.add(all[:200]...)
	require.Eventually(t, func() bool { return len(e.patches()) > 20 }, 10*time.Second, 5*time.Millisecond)
	e.srv.Kill()
	time.Sleep(1500 * time.Millisecond)
	e.srv.Restart()
	e.add(all[200:]...)
	e.waitApplied(30*time.Second, all...)
	for u, n := range e.patches() {
		assert.Equal(t, 1, n, "%s patched %d times", u, n)
	}
	assert.Zero(t, e.pending())
	assert.Positive(t, e.logs.FilterMessageSnippet("Redis").Len(), "the outage was logged")
}

// Redis down longer than a lease while an update is being applied: when it
// is back, the entry's lease has lapsed and the replica's other worker
// takes it over from the replica itself; it leaves it to the worker
// applying it, and the user is written once.
func TestRedisUpdatesInFlightAreNotTakenOverByTheSameReplica(t *testing.T) {
	e := newRedisEnv(t)
	e.consumer(2, 300*time.Millisecond, "")
	e.fake.SetLatency(1500 * time.Millisecond)
	e.add("auth0|slow")
	require.Eventually(t, func() bool { return e.pending() == 1 }, 5*time.Second, 5*time.Millisecond, "a worker took the entry")
	e.srv.Kill()
	time.Sleep(600 * time.Millisecond)
	e.srv.Restart()
	e.waitApplied(10*time.Second, "auth0|slow")
	time.Sleep(time.Second) // a second write would have come by now
	assert.Equal(t, map[string]int{"auth0|slow": 1}, e.patches())
}

func repeatStatus(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}

// The group keeps no consumer of a process that is gone: a replica that
// stops removes its own, and the consumer a crashed one left, once its
// entries were taken over and it went unseen long enough, is removed by
// the replicas still running, which go on taking entries.
func TestRedisUpdatesForgetConsumersOfGoneProcesses(t *testing.T) {
	e := newRedisEnv(t)
	ctx := context.Background()
	// Consumers unseen for 10 leases (3 s) with nothing pending go.
	lease := 300 * time.Millisecond
	e.add("auth0|left")
	require.NoError(t, e.rdb.XGroupCreateMkStream(ctx, e.stream, redisUpdateGroup, "0").Err())
	_, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: redisUpdateGroup, Consumer: "crashed", Streams: []string{e.stream, ">"}, Count: 1, Block: -1}).Result()
	require.NoError(t, err)

	stopped := e.consumer(1, lease, "")
	e.consumer(1, lease, "")
	e.waitApplied(5*time.Second, "auth0|left")
	e.add("auth0|for-the-stopped")
	e.waitApplied(5*time.Second, "auth0|for-the-stopped")
	names := func() []string {
		consumers, err := e.rdb.XInfoConsumers(ctx, e.stream, redisUpdateGroup).Result()
		require.NoError(t, err)
		var out []string
		for _, c := range consumers {
			out = append(out, c.Name)
		}
		return out
	}
	stopped.stop(ctx, time.Second)
	assert.NotContains(t, names(), stopped.consumer)
	assert.Eventually(t, func() bool { return !slices.Contains(names(), "crashed") }, 15*time.Second, 50*time.Millisecond)
	assert.NotContains(t, names(), "crashed")
	e.add("auth0|after")
	e.waitApplied(5*time.Second, "auth0|after")
}

// Replicas start and stop at random, mid-work, while updates flow: every
// update is applied, every entry is gone at the end, and an update is
// sent twice only when a replica stopped while sending it.
func TestRedisUpdatesReplicasComeAndGo(t *testing.T) {
	rnd := testRand(t)
	e := newRedisEnv(t)
	e.fake.SetLatency(time.Millisecond)
	lease := 200 * time.Millisecond
	all := users("churn", 300)
	running := []*redisUpdates{e.consumer(1+rnd.IntN(2), lease, "")}
	stops := 0
	for i := 0; i < len(all); i += 30 {
		e.add(all[i:min(i+30, len(all))]...)
		time.Sleep(time.Duration(rnd.IntN(100)) * time.Millisecond)
		switch {
		case len(running) > 1 && rnd.IntN(3) == 0:
			k := rnd.IntN(len(running))
			running[k].stop(context.Background(), 0)
			running = append(running[:k], running[k+1:]...)
			stops++
		case len(running) < 4:
			running = append(running, e.consumer(1+rnd.IntN(2), lease, ""))
		}
	}
	e.waitApplied(30*time.Second, all...)
	twice := 0
	for _, n := range e.patches() {
		twice += n - 1
	}
	t.Logf("%d stops, %d updates sent twice", stops, twice)
	assert.LessOrEqual(t, twice, 2*stops, "more updates sent twice than were in progress at the stops")
	assert.Zero(t, e.pending())
}
