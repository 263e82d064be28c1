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
