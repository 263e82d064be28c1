// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

func newRedisLimiter(_ *testing.T, srv *redistest.Server, tenant string, cfg RateLimitConfig) *RedisLimiter {
	return NewRedisLimiter(srv.Client(), "otelcol-auth0", tenant, cfg, zap.NewNop())
}

// Two processes (two Redis connections, two limiters, two clients) that
// write as fast as they may stay together within the one configured rate,
// as the tenant counts it.
func TestSharedLimiterHoldsTheFleetRate(t *testing.T) {
	srv := redistest.Start(t)
	const perSecond, burst = 20, 5
	limits := RateLimitConfig{WritesPerSecond: perSecond, WriteBurst: burst, ReadsPerSecond: 50, ReadBurst: 10}
	fake, _, cfg := newTenant(t, func(c *Config) { c.RateLimit = limits })
	fake.SetAutoCreate(true)
	clients := []*Client{
		newClient(t, cfg, WithSharedLimiter(newRedisLimiter(t, srv, cfg.Domain, limits))),
		newClient(t, cfg, WithSharedLimiter(newRedisLimiter(t, srv, cfg.Domain, limits))),
	}
	const window = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					user := "u" + strconv.Itoa(i) + "-" + strconv.Itoa(w) + "-" + strconv.Itoa(n)
					err := c.SetAppMetadata(ctx, user, map[string]any{"signedUp": true})
					if ctx.Err() != nil {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := 0
	for _, r := range fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if r.Status == http.StatusOK {
			calls++
		}
	}
	// GCRA lets the burst go at once, then one call per 1/rate.
	allowed := burst + perSecond*elapsed.Seconds()
	t.Logf("figures: %d PATCHes from 2 limiters in %.2f s, %.1f/s after the burst of %d; the fleet's budget is %d/s",
		calls, elapsed.Seconds(), float64(calls-burst)/elapsed.Seconds(), burst, perSecond)
	assert.LessOrEqual(t, float64(calls), allowed+1, "the two processes together exceed the configured rate")
	assert.GreaterOrEqual(t, float64(calls), 0.85*allowed, "the shared limiter holds the calls far below the rate")
}

// Fractional rates are kept: 0.5/s with a burst of 1 lets one call go,
// then none for two seconds.
func TestSharedLimiterFractionalRate(t *testing.T) {
	srv := redistest.Start(t)
	l := newRedisLimiter(t, srv, "frac.example", RateLimitConfig{WritesPerSecond: 0.5, WriteBurst: 1, ReadsPerSecond: 1, ReadBurst: 1})
	ctx := context.Background()
	assert.True(t, l.Allow(ctx, KindWrite))
	assert.False(t, l.Allow(ctx, KindWrite))
	assert.True(t, l.Allow(ctx, KindRead), "reads have a budget of their own")
	start := time.Now()
	require.NoError(t, l.Wait(ctx, KindWrite))
	assert.InDelta(t, 2, time.Since(start).Seconds(), 0.3)
}

// Redis down: Allow says no, Wait waits (no call goes over a budget
// nobody can check) and goes on once Redis is back.
func TestSharedLimiterWaitsWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	l := newRedisLimiter(t, srv, "down.example", RateLimitConfig{WritesPerSecond: 100, WriteBurst: 10, ReadsPerSecond: 100, ReadBurst: 10})
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx, KindWrite))

	srv.Kill()
	assert.False(t, l.Allow(ctx, KindRead))
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(short, KindWrite), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, KindWrite) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned while Redis was down: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	srv.Restart()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not go on after Redis came back")
	}
	assert.True(t, l.Allow(ctx, KindRead))
}

// The pause after a 429 holds with the shared limiter too.
func TestSharedLimiterKeepsThePauseAfterA429(t *testing.T) {
	srv := redistest.Start(t)
	limits := NewDefaultConfig().RateLimit
	testRateLimitPausesUntilReset(t, WithSharedLimiter(newRedisLimiter(t, srv, "pause.example", limits)))
}
