// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"fmt"
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
