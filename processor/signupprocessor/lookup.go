// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// lookuper reads users' app_metadata on the log path, so it never waits:
// it skips when the tenant's budget has no room, bounds each call by a
// timeout, and after a failure pauses for a cooldown, so that a slow or
// broken Management API costs the log path one timeout per cooldown.
type lookuper struct {
	api         *mgmtapi.Client
	signedUpKey string
	cfg         LookupConfig
	logger      *zap.Logger
	telemetry   *metadata.TelemetryBuilder

	flight      singleflight.Group
	pausedUntil atomic.Int64 // unix nanos
}

// Lookup results, as counted in the lookups metric.
const (
	lookupSignedUp        = "signed_up"
	lookupNotSignedUp     = "not_signed_up"
	lookupNotFound        = "not_found"
	lookupSkippedBudget   = "skipped_budget"
	lookupSkippedCooldown = "skipped_cooldown"
	lookupFailed          = "failed"
)

var lookupResultAttrs = func() map[string]metric.MeasurementOption {
	m := map[string]metric.MeasurementOption{}
	for _, r := range []string{lookupSignedUp, lookupNotSignedUp, lookupNotFound, lookupSkippedBudget, lookupSkippedCooldown, lookupFailed} {
		m[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	return m
}()

// lookupAll looks up users in parallel (bounded) and returns what it
// learned. The lookups of waiting (checks before a SignUp) go first and
// wait for the read budget, up to lookups.timeout; the others are skipped
// when the budget has no room.
func (l *lookuper) lookupAll(ctx context.Context, users, waiting []string) map[string]lookupResult {
	results := make(map[string]lookupResult, len(users)+len(waiting))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, l.cfg.Concurrency)
	for i, user := range append(append([]string(nil), waiting...), users...) {
		wait := i < len(waiting)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := l.lookup(ctx, user, wait)
			r.asked = true
			mu.Lock()
			results[user] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// lookup reads one user, sharing the call with concurrent batches that ask
// for the same user. wait: wait for the read budget (within the timeout)
// rather than skip.
func (l *lookuper) lookup(ctx context.Context, user string, wait bool) lookupResult {
	if time.Now().UnixNano() < l.pausedUntil.Load() {
		l.count(ctx, lookupSkippedCooldown)
		return lookupResult{}
	}
	key := user
	if wait {
		key = "wait/" + user
	}
	v, _, _ := l.flight.Do(key, func() (any, error) {
		callCtx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
		defer cancel()
		read := l.api.TryReadAppMetadata
		if wait {
			read = l.api.ReadAppMetadata
		}
		md, err := read(callCtx, user)
		switch class := mgmtapi.Classify(err); class {
		case mgmtapi.ClassOK:
			signedUp := false
			if v, ok := md[l.signedUpKey].(bool); ok {
				signedUp = v
			}
			if signedUp {
				l.count(ctx, lookupSignedUp)
			} else {
				l.count(ctx, lookupNotSignedUp)
			}
			return lookupResult{found: true, signedUp: signedUp}, nil
		case mgmtapi.ClassNotFound:
			l.count(ctx, lookupNotFound)
		case mgmtapi.ClassRateLimited:
			// The budget pauses itself until the tenant's reset.
			l.count(ctx, lookupSkippedBudget)
		default:
			l.count(ctx, lookupFailed)
			l.pausedUntil.Store(time.Now().Add(l.cfg.Cooldown).UnixNano())
			l.logger.Warn("Management API lookup failed; lookups pause, decisions fall back to what records say",
				zap.String("class", class.String()), zap.Duration("cooldown", l.cfg.Cooldown), zap.Error(err))
		}
		return lookupResult{}, nil
	})
	return v.(lookupResult)
}

func (l *lookuper) count(ctx context.Context, result string) {
	l.telemetry.ProcessorSignupLookups.Add(ctx, 1, lookupResultAttrs[result])
}
