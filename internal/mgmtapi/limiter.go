// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi // import "github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"

import (
	"context"

	"golang.org/x/time/rate"
)

// Kind is a class of calls with a budget of its own.
type Kind int

const (
	// KindRead is GET /api/v2/users/{id} and GET /api/v2/logs.
	KindRead Kind = iota
	// KindWrite is PATCH /api/v2/users/{id}.
	KindWrite
)

func (k Kind) String() string {
	if k == KindWrite {
		return "writes"
	}
	return "reads"
}

// Limiter spends a tenant's call budget. The Client asks it before every
// call, after any pause a 429 set.
type Limiter interface {
	// Wait blocks until a call of kind may go, or ctx ends.
	Wait(ctx context.Context, kind Kind) error
	// Allow takes a call of kind only if it may go now, without waiting:
	// for the log path.
	Allow(ctx context.Context, kind Kind) bool
}

// localLimiter is the budget of one process: a token bucket per kind.
type localLimiter struct {
	reads  *rate.Limiter
	writes *rate.Limiter
}

func newLocalLimiter(cfg RateLimitConfig) *localLimiter {
	return &localLimiter{
		reads:  rate.NewLimiter(rate.Limit(cfg.ReadsPerSecond), cfg.ReadBurst),
		writes: rate.NewLimiter(rate.Limit(cfg.WritesPerSecond), cfg.WriteBurst),
	}
}

func (l *localLimiter) bucket(kind Kind) *rate.Limiter {
	if kind == KindWrite {
		return l.writes
	}
	return l.reads
}

func (l *localLimiter) Wait(ctx context.Context, kind Kind) error {
	return l.bucket(kind).Wait(ctx)
}

func (l *localLimiter) Allow(_ context.Context, kind Kind) bool {
	return l.bucket(kind).Allow()
}

// lower sets cfg's rates and bursts where they are stricter.
func (l *localLimiter) lower(cfg RateLimitConfig) {
	lowerBucket(l.reads, cfg.ReadsPerSecond, cfg.ReadBurst)
	lowerBucket(l.writes, cfg.WritesPerSecond, cfg.WriteBurst)
}

func lowerBucket(b *rate.Limiter, perSecond float64, burst int) {
	if rate.Limit(perSecond) < b.Limit() {
		b.SetLimit(rate.Limit(perSecond))
	}
	if burst < b.Burst() {
		b.SetBurst(burst)
	}
}
