// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

type ev = auth0test.Event

// patches returns how many PATCHes the fake answered, per user.
func (e *env) patches() map[string]int {
	n := map[string]int{}
	for _, r := range e.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if r.Status == http.StatusOK {
			n[r.UserID]++
		}
	}
	return n
}

func (e *env) waitPatched(users ...string) {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		p := e.patches()
		for _, u := range users {
			if p[u] == 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "PATCHes so far: %v", e.patches())
}

// waitUpdatesCounted waits until n updates are counted with result: the
// processor counts an update once the answer reached it, a moment after
// the fake recorded the request.
func (e *env) waitUpdatesCounted(result string, n int64) {
	e.t.Helper()
	counted := func() int64 {
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
	require.Eventually(e.t, func() bool { return counted() >= n }, 10*time.Second, 10*time.Millisecond,
		"updates counted with result %s: %d of %d", result, counted(), n)
}

func TestDatabaseSignupThenLogins(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|new", nil)
	e.start(e.config())

	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", Type: "ss", UserID: "auth0|new"},
		ev{LogID: "2", Type: "s", UserID: "auth0|new", LoginsCount: 1},
	)))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "3", Type: "s", UserID: "auth0|new", LoginsCount: 2})))
	assert.Equal(t, []tag{
		{"auth0|new", "SignUp", basisSignupType, "1"},
		{"auth0|new", "Login", basisStore, "2"},
		{"auth0|new", "Login", basisStore, "3"},
	}, e.tags())

	e.waitPatched("auth0|new")
	assert.Equal(t, map[string]any{"signedUp": true}, e.fake.AppMetadata("auth0|new"))
	assert.Empty(t, e.fake.Requests(http.MethodGet, "/api/v2/users/"), "no lookup: the records told")
}

func TestRecordKinds(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "a", Type: "s", UserID: "social|first", LoginsCount: 1},
		ev{LogID: "b", Type: "s", UserID: "auth0|returning", LoginsCount: 41},
		ev{LogID: "c", Type: "sertft", UserID: "auth0|returning"},
		ev{LogID: "d", Type: "ssa", UserID: "auth0|returning"},
		ev{LogID: "e", Type: "slo", UserID: "auth0|returning"},
		ev{LogID: "f", Type: "fp", UserID: "auth0|returning"},
		ev{LogID: "g", Type: "seacft", UserID: "auth0|returning"},
		ev{LogID: "h", Type: "sepft", UserID: "auth0|ropg"},
		ev{LogID: "i", Type: "s", UserID: "auth0|refresh", Protocol: "oauth2-refresh-token"},
	)))
	got := map[string]string{}
	for _, tg := range e.tags() {
		got[tg.ID] = tg.Event + "/" + tg.Basis
	}
	assert.Equal(t, map[string]string{
		"a": "SignUp/logins_count",
		"b": "Login/logins_count",
		"c": "/", "d": "/", "e": "/", "f": "/", "g": "/", "i": "/",
		"h": "Login/password_exchange",
	}, got)
}

func TestOtherRecordsCanBeDropped(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.OtherRecords = OtherRecordsDrop
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", Type: "f"}, ev{LogID: "2", Type: "sertft"}, ev{LogID: "3", Type: "s", LoginsCount: 3},
	)))
	assert.Equal(t, []tag{{"auth0|6182f1a9c3d4e5f60718293a", "Login", basisLoginsCount, "3"}}, e.tags())

	metadatatest.AssertEqualProcessorSignupRecords(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("outcome", "dropped_other"), attribute.String("basis", "none")), Value: 2},
		{Attributes: attribute.NewSet(attribute.String("outcome", "login"), attribute.String("basis", "logins_count")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestActionPayloads(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|a", map[string]any{"plan": "gold"})
	e.fake.AddUser("auth0|b", map[string]any{"signedUp": true})
	e.start(e.config())
	require.NoError(t, e.consume(
		auth0test.ActionEvent{EventID: "a1", UserID: "auth0|a", AppMetadata: map[string]any{"plan": "gold"}}.JSON(),
		auth0test.ActionEvent{EventID: "b1", UserID: "auth0|b", AppMetadata: map[string]any{"signedUp": true}}.JSON(),
		// The Action captured app_metadata before the update landed: the store knows better.
		auth0test.ActionEvent{EventID: "a2", UserID: "auth0|a", AppMetadata: map[string]any{"plan": "gold"}}.JSON(),
		auth0test.ActionEvent{EventID: "a3", UserID: "auth0|a", Protocol: "oauth2-refresh-token"}.JSON(),
	))
	assert.Equal(t, []tag{
		{"auth0|a", "SignUp", basisAppMetadata, "a1"},
		{"auth0|b", "Login", basisAppMetadata, "b1"},
		{"auth0|a", "Login", basisStore, "a2"},
		{"auth0|a", "", "", "a3"},
	}, e.tags())
	e.waitPatched("auth0|a")
	assert.Equal(t, map[string]any{"plan": "gold", "signedUp": true}, e.fake.AppMetadata("auth0|a"))
	assert.Equal(t, map[string]int{"auth0|a": 1}, e.patches(), "returning users are never patched")
}

func TestLookups(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	e.fake.AddUser("auth0|unmarked", map[string]any{"plan": "free"})
	e.start(e.config())

	// SSO logins carry no logins count: only the Management API can tell.
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", UserID: "auth0|marked"},
		ev{LogID: "2", UserID: "auth0|unmarked"},
		ev{LogID: "3", UserID: "auth0|marked"},
		ev{LogID: "4", UserID: "auth0|deleted"},
	)))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "5", UserID: "auth0|marked"}, ev{LogID: "6", UserID: "auth0|unmarked"})))
	assert.Equal(t, []tag{
		{"auth0|marked", "Login", basisLookup, "1"},
		{"auth0|unmarked", "SignUp", basisLookup, "2"},
		{"auth0|marked", "Login", basisStore, "3"},
		{"auth0|deleted", "Login", basisDefault, "4"},
		{"auth0|marked", "Login", basisStore, "5"},
		{"auth0|unmarked", "Login", basisStore, "6"},
	}, e.tags())

	gets := map[string]int{}
	for _, r := range e.fake.Requests(http.MethodGet, "/api/v2/users/") {
		gets[r.UserID]++
	}
	assert.Equal(t, map[string]int{"auth0|marked": 1, "auth0|unmarked": 1, "auth0|deleted": 1}, gets, "one lookup per unknown user, none once known")

	e.waitPatched("auth0|unmarked")
	metadatatest.AssertEqualProcessorSignupLookups(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("result", "signed_up")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("result", "not_signed_up")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("result", "not_found")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestExactlyOnceUnderDuplicatesAndReordering(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|x", nil)
	e.start(e.config())
	first := ev{LogID: "10", Type: "s", UserID: "auth0|x", LoginsCount: 1}
	signup := ev{LogID: "09", Type: "ss", UserID: "auth0|x"}

	// The login arrives before the signup record, both twice.
	require.NoError(t, e.consume(auth0test.Lines(first, first)))
	require.NoError(t, e.consume(auth0test.Lines(signup, first, signup)))
	// The redelivered login is dropped; the late signup record, twice, is
	// passed untagged: there is one SignUp per user.
	assert.Equal(t, []tag{
		{"auth0|x", "SignUp", basisLookup, "10"},
		{"auth0|x", "", "", "09"},
		{"auth0|x", "", "", "09"},
	}, e.tags())
	assert.Equal(t, map[string]int{"auth0|x": 1}, e.countEvents("SignUp"))
	e.waitPatched("auth0|x")
	assert.Equal(t, map[string]int{"auth0|x": 1}, e.patches())
}

// Two first logins of one user, processed at the same time by concurrent
// batches (two HTTP requests): one SignUp. Run with -race.
func TestExactlyOnceUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	const users, perUser = 20, 8
	for u := range users {
		e.fake.AddUser(fmt.Sprintf("auth0|c%d", u), nil)
	}
	e.start(e.config())
	var wg sync.WaitGroup
	for i := range perUser {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []ev
			for u := range users {
				batch = append(batch, ev{LogID: fmt.Sprintf("%02d-%02d", u, i), UserID: fmt.Sprintf("auth0|c%d", u), LoginsCount: 1})
			}
			assert.NoError(t, e.consume(auth0test.Lines(batch...)))
		}()
	}
	wg.Wait()
	signups := e.countEvents("SignUp")
	logins := e.countEvents("Login")
	for u := range users {
		user := fmt.Sprintf("auth0|c%d", u)
		assert.Equal(t, 1, signups[user], user)
		assert.Equal(t, perUser-1, logins[user], user)
	}
	for u := range users {
		e.waitPatched(fmt.Sprintf("auth0|c%d", u))
	}
	for user, n := range e.patches() {
		assert.Equal(t, 1, n, user)
	}
}

// A SignUp whose batch the pipeline refuses is rolled back: no PATCH, and
// Auth0's retry of the batch is the SignUp.
func TestRefusedBatchRollsBack(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|r", nil)
	e.start(e.config())
	batch := auth0test.Lines(ev{LogID: "1", UserID: "auth0|r", LoginsCount: 1})

	e.next.setErr(errors.New("sending queue is full"))
	require.Error(t, e.consume(batch))
	e.next.setErr(consumererror.NewPermanent(errors.New("bad")))
	require.Error(t, e.consume(batch))
	time.Sleep(100 * time.Millisecond)
	assert.Empty(t, e.patches(), "not marked: the SignUp was never delivered")

	e.next.setErr(nil)
	require.NoError(t, e.consume(batch))
	assert.Equal(t, []tag{{"auth0|r", "SignUp", basisLookup, "1"}}, e.tags())
	e.waitPatched("auth0|r")
}

// Restarts with a storage extension: the store and pending updates
// survive, so a redelivered SignUp stays a duplicate and an update queued
// before shutdown is applied after it.
func TestRestartWithStorage(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|s", nil)
	e.fake.AddUser("auth0|t", nil)
	cfg := e.config()
	// Updates cannot complete before the restart: the token is refused.
	cfg.ManagementAPI.ClientSecret = "rotated-away"
	cfg.Updates.DrainTimeout = 50 * time.Millisecond
	cfg.Lookups.Enabled = false
	e.start(cfg)
	signup := auth0test.Lines(ev{LogID: "1", UserID: "auth0|s", LoginsCount: 1})
	require.NoError(t, e.consume(signup))
	e.stop()
	assert.Empty(t, e.patches())

	cfg = e.config()
	cfg.Lookups.Enabled = false
	e.start(cfg)
	e.waitPatched("auth0|s")

	require.NoError(t, e.consume(signup, auth0test.Lines(ev{LogID: "2", UserID: "auth0|s"})))
	assert.Equal(t, []tag{
		{"auth0|s", "SignUp", basisLoginsCount, "1"},
		{"auth0|s", "Login", basisStore, "2"},
	}, e.tags(), "the redelivered SignUp record was dropped, the next login is a Login")

	// A restart without the processor ever seeing t: the store does not
	// invent anything.
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "3", UserID: "auth0|t", LoginsCount: 1})))
	e.stop()
	cfg = e.config()
	cfg.Lookups.Enabled = false
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "4", UserID: "auth0|t", LoginsCount: 2})))
	assert.Equal(t, map[string]int{"auth0|s": 1, "auth0|t": 1}, e.countEvents("SignUp"))
	e.waitPatched("auth0|t")
	assert.Equal(t, map[string]int{"auth0|s": 1, "auth0|t": 1}, e.patches())
}

func TestNoCredentials(t *testing.T) {
	e := newEnv(t)
	cfg := createDefaultConfig().(*Config)
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", Type: "ss", UserID: "auth0|n"},
		ev{LogID: "2", UserID: "auth0|n", LoginsCount: 1},
		ev{LogID: "3", UserID: "auth0|other"},
	)))
	assert.Equal(t, []tag{
		{"auth0|n", "SignUp", basisSignupType, "1"},
		{"auth0|n", "Login", basisStore, "2"},
		{"auth0|other", "Login", basisDefault, "3"},
	}, e.tags())
	assert.Len(t, e.logs.FilterMessageSnippet("no Auth0 Management API credentials").All(), 1)
	assert.Empty(t, e.fake.Requests("", "/api/v2/"))
}

// The log path never waits for the Management API: with updates and
// lookups hanging, batches go through, costing at most one lookup timeout
// before lookups pause.
func TestLogPathUnaffectedByHangingAPI(t *testing.T) {
	e := newEnv(t)
	e.fake.SetHang(true)
	defer e.fake.SetHang(false)
	cfg := e.config()
	cfg.Lookups.Timeout = 200 * time.Millisecond
	cfg.Updates.DrainTimeout = 10 * time.Millisecond
	e.start(cfg)

	var slow int
	for i := range 50 {
		start := time.Now()
		require.NoError(t, e.consume(auth0test.Lines(
			ev{UserID: fmt.Sprintf("auth0|h%d", i), LoginsCount: 1},
			ev{UserID: fmt.Sprintf("auth0|sso%d", i)},
		)))
		if time.Since(start) > 100*time.Millisecond {
			slow++
		}
	}
	assert.Equal(t, 1, slow, "only the first batch waits for a lookup timeout")
	assert.Len(t, e.countEvents("SignUp"), 50)
	assert.NotEmpty(t, e.logs.FilterMessageSnippet("lookup failed").All())
}

// 429s with x-ratelimit-reset and 5xx: every update still lands once, and
// PATCHes never exceed the configured rate.
func TestUpdatesUnderRateLimitsAndErrors(t *testing.T) {
	e := newEnv(t)
	const n = 12
	var users []string
	for i := range n {
		u := fmt.Sprintf("auth0|rl%d", i)
		users = append(users, u)
		e.fake.AddUser(u, nil)
	}
	e.fake.FailNext(http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusBadGateway)
	cfg := e.config()
	cfg.ManagementAPI.RateLimit.WritesPerSecond = 8
	cfg.ManagementAPI.RateLimit.WriteBurst = 2
	cfg.Updates.Workers = 4
	e.start(cfg)

	var batch []ev
	for _, u := range users {
		batch = append(batch, ev{UserID: u, Type: "ss"})
	}
	require.NoError(t, e.consume(auth0test.Lines(batch...)))
	e.waitPatched(users...)
	for _, u := range users {
		assert.Equal(t, true, e.fake.AppMetadata(u)["signedUp"], u)
	}

	// Rate: count PATCH attempts (all statuses) in any one-second window.
	var times []time.Time
	for _, r := range e.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		times = append(times, r.At)
	}
	maxInWindow := 0
	for i := range times {
		in := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			in++
		}
		maxInWindow = max(maxInWindow, in)
	}
	assert.LessOrEqual(t, maxInWindow, 8+2, "rate 8/s with a burst of 2")
	assert.Len(t, times, n+3, "each failure retried once")

	e.waitUpdatesCounted("ok", n)
	metadatatest.AssertEqualProcessorSignupUpdates(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("result", "ok")), Value: n},
		{Attributes: attribute.NewSet(attribute.String("result", "retried")), Value: 2},
		{Attributes: attribute.NewSet(attribute.String("result", "rate_limited")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestWrongCredentialsKeepUpdates(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|w", nil)
	cfg := e.config()
	cfg.ManagementAPI.ClientSecret = "not-the-secret"
	cfg.Updates.DrainTimeout = 10 * time.Millisecond
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{UserID: "auth0|w", Type: "ss"})), "the log path does not care")
	require.Eventually(t, func() bool {
		return len(e.logs.FilterMessageSnippet("refuses the credentials").All()) > 0
	}, 5*time.Second, 10*time.Millisecond)
	for _, entry := range e.logs.All() {
		assert.NotContains(t, fmt.Sprint(entry.ContextMap()), "not-the-secret")
		assert.NotContains(t, entry.Message, "not-the-secret")
	}
	e.stop()

	// Fixed credentials: the update kept in storage goes through.
	e.start(e.config())
	e.waitPatched("auth0|w")
}

func TestDrainOnShutdown(t *testing.T) {
	e := newEnv(t)
	var users []string
	var batch []ev
	for i := range 6 {
		u := fmt.Sprintf("auth0|d%d", i)
		users = append(users, u)
		e.fake.AddUser(u, nil)
		batch = append(batch, ev{UserID: u, Type: "ss"})
	}
	cfg := e.config()
	cfg.ManagementAPI.RateLimit.WritesPerSecond = 20
	cfg.ManagementAPI.RateLimit.WriteBurst = 1
	cfg.Updates.Workers = 1
	cfg.Updates.DrainTimeout = 5 * time.Second
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(batch...)))
	e.stop() // returns once drained
	assert.Len(t, e.patches(), len(users), "every queued update was sent before Shutdown returned")
}

func TestUpdateQueueFull(t *testing.T) {
	e := newEnv(t)
	e.fake.SetHang(true)
	defer e.fake.SetHang(false)
	cfg := e.config()
	cfg.Updates.QueueSize = 2
	cfg.Updates.Workers = 1
	cfg.Updates.DrainTimeout = 10 * time.Millisecond
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{UserID: "a", Type: "ss"}, ev{UserID: "b", Type: "ss"}, ev{UserID: "c", Type: "ss"}, ev{UserID: "d", Type: "ss"})))
	assert.Len(t, e.countEvents("SignUp"), 4, "tagging does not depend on the queue")
	metadatatest.AssertEqualProcessorSignupUpdates(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("result", "dropped_queue_full")), Value: 2},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualProcessorSignupUpdateQueueSize(t, e.tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
}

// recordsCounted is the records metric's count for an outcome, over bases.
func (e *env) recordsCounted(outcome string) int64 {
	m, err := e.tel.GetMetric("otelcol_processor_signup_records")
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value("outcome"); ok && v.AsString() == outcome {
			n += dp.Value
		}
	}
	return n
}
