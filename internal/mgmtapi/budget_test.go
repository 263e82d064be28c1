// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 429 pauses every caller of the tenant until x-ratelimit-reset.
func TestRateLimitPausesUntilReset(t *testing.T) {
	testRateLimitPausesUntilReset(t)
}

func testRateLimitPausesUntilReset(t *testing.T, opts ...Option) {
	fake, c, _ := newTenant(t, nil, opts...)
	fake.AddUser("u", nil)
	fake.FailNext(http.StatusTooManyRequests)
	ctx := context.Background()

	reset := time.Now().Add(2 * time.Second).Truncate(time.Second)
	var seen atomic.Bool
	// The fake's injected 429 carries no headers; put Auth0's on it.
	c.http.Transport.(*transport).base = headerSetter{base: c.http.Transport.(*transport).base, set: func(resp *http.Response) {
		if resp.StatusCode == http.StatusTooManyRequests && !seen.Swap(true) {
			resp.Header.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		}
	}}

	_, err := c.TryReadAppMetadata(ctx, "u")
	assert.Equal(t, ClassRateLimited, Classify(err))
	_, err = c.TryReadAppMetadata(ctx, "u")
	assert.ErrorIs(t, err, ErrNoBudget, "the log path does not wait")

	start := time.Now()
	require.NoError(t, c.SetAppMetadata(ctx, "u", map[string]any{"signedUp": true}), "writers wait for the reset")
	assert.WithinDuration(t, reset, time.Now(), 1200*time.Millisecond)
	assert.Greater(t, time.Since(start), 500*time.Millisecond)
}

type headerSetter struct {
	base http.RoundTripper
	set  func(*http.Response)
}

func (h headerSetter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err == nil {
		h.set(resp)
	}
	return resp, err
}

func TestResetTime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	assert.Equal(t, now.Add(time.Second), resetTime(h, now), "no header: a second")
	h.Set("Retry-After", "7")
	assert.Equal(t, now.Add(7*time.Second), resetTime(h, now))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(now.Unix()+30, 10))
	assert.Equal(t, now.Add(30*time.Second), resetTime(h, now), "x-ratelimit-reset wins")
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(now.Unix()+86400, 10))
	assert.Equal(t, now.Add(maxPause), resetTime(h, now), "bounded")
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(now.Unix()-10, 10))
	assert.Equal(t, now.Add(time.Second), resetTime(h, now), "a reset in the past")
}

func TestSharedBudgetTakesTheLowerRate(t *testing.T) {
	a := acquireBudget("shared.example", RateLimitConfig{WritesPerSecond: 3, WriteBurst: 10, ReadsPerSecond: 5, ReadBurst: 20})
	b := acquireBudget("shared.example", RateLimitConfig{WritesPerSecond: 1, WriteBurst: 2, ReadsPerSecond: 9, ReadBurst: 40})
	assert.Same(t, a, b)
	assert.InDelta(t, 1, float64(a.local.writes.Limit()), 0)
	assert.Equal(t, 2, a.local.writes.Burst())
	assert.InDelta(t, 5, float64(a.local.reads.Limit()), 0)
	releaseBudget("shared.example")
	releaseBudget("shared.example")
	c := acquireBudget("shared.example", RateLimitConfig{WritesPerSecond: 3, WriteBurst: 10, ReadsPerSecond: 5, ReadBurst: 20})
	assert.NotSame(t, a, c, "released when the last user closes")
	releaseBudget("shared.example")
}
