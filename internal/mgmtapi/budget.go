// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi // import "github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/retry"
)

// maxPause bounds how long one 429 can silence a tenant, so that a bogus
// x-ratelimit-reset cannot stop the collector's calls for days.
const maxPause = 5 * time.Minute

// budget is one tenant's budget in this process: the local token buckets,
// and a pause that a 429 sets until Auth0's reset time. Every component of
// the process that calls the same tenant shares it.
//
// The pause stays per process even when the buckets are replaced by a
// limiter shared through Redis: the shared limiter already keeps the fleet
// within the configured rates, so a 429 means the tenant's limit is spent
// by others too, and each replica learns it from its own next call. That
// costs at most one refused call per replica per reset window, where a
// shared pause would cost a Redis round trip before every call.
type budget struct {
	local *localLimiter

	mu          sync.Mutex
	pausedUntil time.Time
	refs        int
}

var budgets = struct {
	sync.Mutex
	byDomain map[string]*budget
}{byDomain: map[string]*budget{}}

// acquireBudget returns the domain's shared budget, lowered to cfg's rates
// if they are stricter than what another component set.
func acquireBudget(domain string, cfg RateLimitConfig) *budget {
	budgets.Lock()
	defer budgets.Unlock()
	b, ok := budgets.byDomain[domain]
	if !ok {
		b = &budget{local: newLocalLimiter(cfg)}
		budgets.byDomain[domain] = b
	} else {
		b.local.lower(cfg)
	}
	b.refs++
	return b
}

func releaseBudget(domain string) {
	budgets.Lock()
	defer budgets.Unlock()
	if b, ok := budgets.byDomain[domain]; ok {
		b.refs--
		if b.refs <= 0 {
			delete(budgets.byDomain, domain)
		}
	}
}

// pause stops calls until t (never shortening a longer pause).
func (b *budget) pause(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.pausedUntil) {
		b.pausedUntil = t
	}
}

// pausedFor is how long calls must still wait after a 429.
func (b *budget) pausedFor(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pausedUntil.Sub(now)
}

// wait blocks until a call may go: after any pause, and with l's leave.
func (b *budget) wait(ctx context.Context, l Limiter, kind Kind) error {
	// A 429 seen while waiting may push the pause further: look again.
	for d := b.pausedFor(time.Now()); d > 0; d = b.pausedFor(time.Now()) {
		if err := retry.Sleep(ctx, d); err != nil {
			return err
		}
	}
	return l.Wait(ctx, kind)
}

// try takes l's leave only if a call may go right now: the log path never
// waits for the Management API.
func (b *budget) try(ctx context.Context, l Limiter, kind Kind) bool {
	return b.pausedFor(time.Now()) <= 0 && l.Allow(ctx, kind)
}

// observe pauses the budget when a response says the tenant's limit is
// reached: a 429, or a successful call that used the last request of the
// window (x-ratelimit-remaining: 0).
func (b *budget) observe(resp *http.Response, now time.Time) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		return
	}
	b.pause(resetTime(resp.Header, now))
}

// resetTime reads when the limit resets: x-ratelimit-reset (unix seconds),
// else Retry-After (seconds), else one second from now.
func resetTime(h http.Header, now time.Time) time.Time {
	until := now.Add(time.Second)
	if v, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil && v > 0 {
		until = time.Unix(v, 0)
	} else if v, err := strconv.Atoi(h.Get("Retry-After")); err == nil && v >= 0 {
		until = now.Add(time.Duration(v) * time.Second)
	}
	switch {
	case !until.After(now):
		// A reset in the past means clocks disagree: wait a moment anyway.
		until = now.Add(time.Second)
	case until.Sub(now) > maxPause:
		until = now.Add(maxPause)
	}
	return until
}

// transport watches every response for rate limits, and sends requests
// over plain http when the base URL override asks for it (go-auth0 always
// builds https URLs).
type transport struct {
	base      http.RoundTripper
	plainHTTP bool
	budget    *budget
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.plainHTTP && req.URL.Scheme == "https" {
		req = req.Clone(req.Context())
		req.URL.Scheme = "http"
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		t.budget.observe(resp, time.Now())
	}
	return resp, err
}
