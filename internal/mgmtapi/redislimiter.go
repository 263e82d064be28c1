// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi // import "github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/retry"
)

// Bounds of the wait between attempts while Redis cannot be reached.
const (
	minRedisRetry = 100 * time.Millisecond
	maxRedisRetry = 2 * time.Second
)

// RedisLimiter is one tenant's call budget shared by every process that
// uses the same Redis and key prefix: a GCRA limiter (redis_rate) per kind,
// so that the configured rates and bursts hold for the whole fleet.
//
// When Redis cannot be reached it fails safe: Wait keeps retrying Redis,
// with backoff, until it answers or ctx ends, and Allow says no. A local
// fallback would need the number of replicas to divide the rate by, which
// a DaemonSet changes with the cluster; and while Redis is down the work
// that spends this budget waits anyway, since the pending updates and the
// claims live there.
type RedisLimiter struct {
	limiter *redis_rate.Limiter
	keys    [2]string
	limits  [2]redis_rate.Limit
	logger  *zap.Logger

	mu       sync.Mutex
	lastWarn time.Time
}

// NewRedisLimiter keeps the budget of tenant (the Management API domain)
// under "<prefix>:{<tenant>}:mgmt:reads" and ":writes" (redis_rate puts
// its own "rate:" in front); the braces keep both keys in one Cluster
// slot. cfg's rates and bursts are the fleet's.
func NewRedisLimiter(client redis.UniversalClient, prefix, tenant string, cfg RateLimitConfig, logger *zap.Logger) *RedisLimiter {
	base := prefix + ":{" + tenant + "}:mgmt:"
	return &RedisLimiter{
		limiter: redis_rate.NewLimiter(client),
		keys:    [2]string{KindRead: base + KindRead.String(), KindWrite: base + KindWrite.String()},
		limits: [2]redis_rate.Limit{
			KindRead:  gcraLimit(cfg.ReadsPerSecond, cfg.ReadBurst),
			KindWrite: gcraLimit(cfg.WritesPerSecond, cfg.WriteBurst),
		},
		logger: logger,
	}
}

// gcraLimit expresses a fractional rate per second in redis_rate's whole
// events per period, to a thousandth of an event per second.
func gcraLimit(perSecond float64, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: max(1, int(math.Round(perSecond*1000))), Period: 1000 * time.Second, Burst: burst}
}

// Wait blocks until the fleet's budget lets a call of kind go.
func (l *RedisLimiter) Wait(ctx context.Context, kind Kind) error {
	failedWait := minRedisRetry
	for {
		res, err := l.limiter.Allow(ctx, l.keys[kind], l.limits[kind])
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var d time.Duration
		switch {
		case err != nil:
			l.warn(err)
			d = failedWait
			failedWait = min(2*failedWait, maxRedisRetry)
		case res.Allowed > 0:
			return nil
		default:
			failedWait = minRedisRetry
			d = max(res.RetryAfter, time.Millisecond)
		}
		if err := retry.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Allow takes a call of kind if the fleet's budget has room now; no when
// Redis cannot be reached.
func (l *RedisLimiter) Allow(ctx context.Context, kind Kind) bool {
	res, err := l.limiter.Allow(ctx, l.keys[kind], l.limits[kind])
	if err != nil {
		if ctx.Err() == nil {
			l.warn(err)
		}
		return false
	}
	return res.Allowed > 0
}

// warn logs an unreachable Redis at most once a minute.
func (l *RedisLimiter) warn(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastWarn) < time.Minute {
		return
	}
	l.lastWarn = time.Now()
	l.logger.Warn("cannot reach Redis for the Management API budget; calls wait until it answers", zap.Error(err))
}
