// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

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

// A user whose lookup failed is known by their logins count alone. They
// are looked up again once lookups.recheck_by_count_after has passed (not
// before: their first login may still come, out of order): marked in
// Auth0, they are signed up by Auth0's word; unmarked, that login is their
// SignUp and they are marked, as the Rule would have done. A lookup that
// finds no one waits as long again.
func TestUsersKnownByCountAreLookedUpAgain(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	e.fake.AddUser("auth0|unmarked", map[string]any{"plan": "free"})
	cfg := e.config()
	cfg.Lookups.Cooldown = 0
	cfg.Lookups.RecheckByCountAfter = 300 * time.Millisecond
	e.start(cfg)
	users := []string{"auth0|marked", "auth0|unmarked", "auth0|gone"}
	logins := func(batch string, count int) []byte {
		var events []ev
		for _, u := range users {
			events = append(events, ev{LogID: batch + u, UserID: u, LoginsCount: count})
		}
		return auth0test.Lines(events...)
	}
	gets := func() map[string]int {
		n := map[string]int{}
		for _, r := range e.fake.Requests(http.MethodGet, "/api/v2/users/") {
			n[r.UserID]++
		}
		return n
	}

	e.fake.FailNext(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	start := time.Now()
	require.NoError(t, e.consume(logins("a", 5)))
	require.NoError(t, e.consume(logins("b", 6)))
	require.Less(t, time.Since(start), cfg.Lookups.RecheckByCountAfter, "the test needs the second batch within the wait")
	assert.Equal(t, map[string]int{"auth0|marked": 1, "auth0|unmarked": 1, "auth0|gone": 1}, gets(), "no lookup again within the wait")

	time.Sleep(cfg.Lookups.RecheckByCountAfter)
	require.NoError(t, e.consume(logins("c", 7)))
	require.NoError(t, e.consume(logins("d", 8)))
	assert.Equal(t, map[string]int{"auth0|marked": 2, "auth0|unmarked": 2, "auth0|gone": 2}, gets(), "one lookup again each, then none within the wait")
	assert.Equal(t, []tag{
		{"auth0|marked", "Login", basisLoginsCount, "aauth0|marked"},
		{"auth0|unmarked", "Login", basisLoginsCount, "aauth0|unmarked"},
		{"auth0|gone", "Login", basisLoginsCount, "aauth0|gone"},
		{"auth0|marked", "Login", basisStore, "bauth0|marked"},
		{"auth0|unmarked", "Login", basisStore, "bauth0|unmarked"},
		{"auth0|gone", "Login", basisStore, "bauth0|gone"},
		{"auth0|marked", "Login", basisLookup, "cauth0|marked"},
		{"auth0|unmarked", "SignUp", basisLookup, "cauth0|unmarked"},
		{"auth0|gone", "Login", basisStore, "cauth0|gone"},
		{"auth0|marked", "Login", basisStore, "dauth0|marked"},
		{"auth0|unmarked", "Login", basisStore, "dauth0|unmarked"},
		{"auth0|gone", "Login", basisStore, "dauth0|gone"},
	}, e.tags())
	e.waitPatched("auth0|unmarked")
	assert.Len(t, e.fake.Requests(http.MethodPatch, "/api/v2/users/"), 1, "only the user whose SignUp it made is marked")
}

// A user known by a count whose login a lookup again made their SignUp,
// refused by the pipeline: the sender's retry is the SignUp again, looked
// up again at once (the refused batch's lookup left no trace), not a Login
// until the next wait.
func TestARefusedSignUpOfALookupAgainIsTheSignUpOnRetry(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|u", map[string]any{"plan": "free"})
	cfg := e.config()
	cfg.Lookups.Cooldown = 0
	cfg.Lookups.RecheckByCountAfter = 200 * time.Millisecond
	e.start(cfg)
	e.fake.FailNext(http.StatusServiceUnavailable)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "l5", UserID: "auth0|u", LoginsCount: 5})))
	time.Sleep(cfg.Lookups.RecheckByCountAfter)

	seventh := auth0test.Lines(ev{LogID: "l7", UserID: "auth0|u", LoginsCount: 7})
	e.next.setErr(errors.New("sending queue is full"))
	require.Error(t, e.consume(seventh), "the SignUp of the lookup again, refused")
	e.next.setErr(nil)
	require.NoError(t, e.consume(seventh), "the sender's retry")
	assert.Equal(t, []tag{
		{"auth0|u", "Login", basisLoginsCount, "l5"},
		{"auth0|u", "SignUp", basisLookup, "l7"},
	}, e.tags())
	e.waitPatched("auth0|u")
}

// A user known by a count, due to be looked up again, whose late first
// login comes in a batch after a later login: the later login asks
// Auth0. Not marked: the first login is the SignUp by its count, the
// later one a Login. Marked: neither is a SignUp.
func TestALateFirstLoginOfAUserKnownByCount(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|new", map[string]any{"plan": "free"})
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	cfg := e.config()
	cfg.Lookups.Cooldown = 0
	cfg.Lookups.RecheckByCountAfter = 200 * time.Millisecond
	e.start(cfg)
	e.fake.FailNext(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "n3", UserID: "auth0|new", LoginsCount: 3},
		ev{LogID: "m3", UserID: "auth0|marked", LoginsCount: 3},
	)))
	time.Sleep(cfg.Lookups.RecheckByCountAfter)
	gets := len(e.fake.Requests(http.MethodGet, "/api/v2/users/"))

	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "n4", UserID: "auth0|new", LoginsCount: 4},
		ev{LogID: "n1", UserID: "auth0|new", LoginsCount: 1},
		ev{LogID: "m4", UserID: "auth0|marked", LoginsCount: 4},
		ev{LogID: "m1", UserID: "auth0|marked", LoginsCount: 1},
	)))
	assert.Equal(t, []tag{
		{"auth0|new", "Login", basisLoginsCount, "n3"},
		{"auth0|marked", "Login", basisLoginsCount, "m3"},
		{"auth0|new", "Login", basisStore, "n4"},
		{"auth0|new", "SignUp", basisLoginsCount, "n1"},
		{"auth0|marked", "Login", basisLookup, "m4"},
		{"auth0|marked", "Login", basisStore, "m1"},
	}, e.tags())
	assert.Len(t, e.fake.Requests(http.MethodGet, "/api/v2/users/"), gets+2, "both looked up again")
}
