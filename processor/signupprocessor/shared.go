// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/redisclient"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// errSharedUnavailable refuses a batch whose claims the shared store could
// not settle: the receiver answers 503 with Retry-After and the sender
// retries.
var errSharedUnavailable = errors.New("the shared SignUp claim store (Redis) did not answer, retry later")

// Results of settling claims with the shared store, as counted in the
// claims metric.
const (
	claimWon                = "won"
	claimHeld               = "held_elsewhere"
	claimLostToLogin        = "lost_to_login"
	claimDecidedLocally     = "decided_locally"
	claimRefusedUnavailable = "refused_unavailable"
	claimConfirmFailed      = "confirm_failed"
)

var claimResultAttrs = func() map[string]metric.MeasurementOption {
	m := map[string]metric.MeasurementOption{}
	for _, r := range []string{claimWon, claimHeld, claimLostToLogin, claimDecidedLocally, claimRefusedUnavailable, claimConfirmFailed} {
		m[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	return m
}()

// Why a user's claim is read from the shared store, as counted in the
// claim reads metric.
const (
	readUnknownUser = iota // the replica knows nothing of the user
	readSignedUp           // signed up by Auth0's word: read once
	readByCount            // known only by a count while replicas look users up: read every batch
	readReasons
)

var claimReadAttrs = func() [readReasons]metric.MeasurementOption {
	var m [readReasons]metric.MeasurementOption
	for i, r := range [readReasons]string{"unknown_user", "signed_up", "by_count"} {
		m[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
	return m
}()

type claimReadCounts [readReasons]int64

// readReason says why a user in state st, whose record needs the shared
// claim (needsSharedClaim), is read.
func (sc *sharedClaims) readReason(st userState) int {
	switch {
	case !st.SignedUp:
		return readUnknownUser
	case sc.readsEveryBatch(st):
		return readByCount
	default:
		return readSignedUp
	}
}

// readsEveryBatch: a user signed up only by a logins count above one,
// while replicas look users up, is never known to hold no claim: another
// replica may claim one of their logins after its lookup found them
// unmarked.
func (sc *sharedClaims) readsEveryBatch(st userState) bool {
	return st.SignedUp && st.ByCount && sc.lookups
}

func (sc *sharedClaims) countReads(ctx context.Context, n claimReadCounts) {
	if sc.telemetry == nil {
		return
	}
	for reason, count := range n {
		if count > 0 {
			sc.telemetry.ProcessorSignupClaimReads.Add(ctx, count, claimReadAttrs[reason])
		}
	}
}

// sharedClaims is what the user store needs to settle claims with other
// replicas: the store itself, what to do when it cannot answer, and where
// to say so.
type sharedClaims struct {
	arbiter       claimArbiter
	decideLocally bool
	// lookups: replicas look users up, so one may claim a login whose
	// count is above one (the lookup found the user unmarked) where
	// another, whose lookup failed, took the count for a signed-up user.
	lookups bool
	// timeout bounds one settle: a record that needs a claim waits this
	// long at most for the store.
	timeout   time.Duration
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	warnMu   sync.Mutex
	lastWarn time.Time

	// owed are the confirmations of delivered SignUps that the store did
	// not answer, sent again until it does: the sender's retry confirms a
	// claim too, but a copy of the record answered by another replica is
	// never retried. Keyed by identity: with decide_locally, one user may
	// have two.
	owedMu sync.Mutex
	owed   map[signupIdentity]struct{}
}

// maxOwedConfirmations bounds the confirmations kept for a store that does
// not answer: one per new user, a few hundred bytes each.
const maxOwedConfirmations = 100_000

// owe keeps confirmations to send again; beyond the bound they are dropped
// and said.
func (sc *sharedClaims) owe(reqs []signupIdentity) {
	sc.owedMu.Lock()
	defer sc.owedMu.Unlock()
	if sc.owed == nil {
		sc.owed = map[signupIdentity]struct{}{}
	}
	dropped := 0
	for _, req := range reqs {
		if _, ok := sc.owed[req]; !ok && len(sc.owed) >= maxOwedConfirmations {
			dropped++
			continue
		}
		sc.owed[req] = struct{}{}
	}
	if dropped > 0 && sc.logger != nil {
		sc.logger.Error("too many SignUp confirmations wait for the shared claim store (Redis): the users of those dropped are not marked in app_metadata",
			zap.Int("dropped", dropped), zap.Int("waiting", maxOwedConfirmations))
	}
}

// confirmOwed sends the owed confirmations again, in one round trip, and
// forgets them once the store answered. Confirming is idempotent: a claim
// confirmed meanwhile, or held by another record, is left as it is.
func (sc *sharedClaims) confirmOwed(ctx context.Context) error {
	sc.owedMu.Lock()
	reqs := make([]signupIdentity, 0, len(sc.owed))
	for req := range sc.owed {
		reqs = append(reqs, req)
	}
	sc.owedMu.Unlock()
	if len(reqs) == 0 {
		return nil
	}
	confirmCtx, cancel := context.WithTimeout(ctx, sc.timeout)
	err := sc.arbiter.confirm(confirmCtx, reqs)
	cancel()
	if err != nil {
		return err
	}
	sc.owedMu.Lock()
	for _, req := range reqs {
		delete(sc.owed, req)
	}
	sc.owedMu.Unlock()
	if sc.logger != nil {
		sc.logger.Info("SignUp confirmations the shared claim store (Redis) did not answer are sent", zap.Int("confirmations", len(reqs)))
	}
	return nil
}

func (sc *sharedClaims) owedCount() int {
	sc.owedMu.Lock()
	defer sc.owedMu.Unlock()
	return len(sc.owed)
}

// countLoginsRegistered counts the Logins registered with the shared store.
func (s *userStore) countLoginsRegistered(ctx context.Context, n int) {
	if s.shared == nil || n == 0 || s.shared.telemetry == nil {
		return
	}
	s.shared.telemetry.ProcessorSignupLoginsRegistered.Add(ctx, int64(n))
}

func (s *userStore) observe(ctx context.Context, result string, n int) {
	if s.shared == nil || n == 0 || s.shared.telemetry == nil {
		return
	}
	s.shared.telemetry.ProcessorSignupClaims.Add(ctx, int64(n), claimResultAttrs[result])
}

// warnUnavailable logs the shared store's failure at most every 10 s: a
// store that is down fails every batch the same way.
func (s *userStore) warnUnavailable(err error) {
	sc := s.shared
	if sc == nil || sc.logger == nil {
		return
	}
	sc.warnMu.Lock()
	defer sc.warnMu.Unlock()
	if time.Since(sc.lastWarn) < 10*time.Second {
		return
	}
	sc.lastWarn = time.Now()
	if sc.decideLocally {
		sc.logger.Warn("the shared SignUp claim store (Redis) does not answer: deciding SignUps on this replica alone (when_unavailable: decide_locally), so a user whose records reach two replicas now may get two",
			zap.Error(err))
		return
	}
	sc.logger.Warn("the shared SignUp claim store (Redis) does not answer: requests that need a SignUp claim are refused with 503 and retried by their senders",
		zap.Error(err))
}

// confirmShared records the batch's delivered claims in the shared store,
// which queues their users' app_metadata updates. The records are in the
// pipeline: a caller that gave up on the answer does not stop it. When the
// store does not answer, the confirmations are kept and sent again until
// it does, and the error refuses the batch (its sender delivers it again,
// and a copy is the SignUp again, confirmed then); with decide_locally it
// is counted only.
func (s *userStore) confirmShared(ctx context.Context, cs *claimSet) error {
	if s.shared == nil || len(cs.claims) == 0 {
		return nil
	}
	reqs := make([]signupIdentity, 0, len(cs.claims))
	for _, c := range cs.claims {
		if !c.state.Confirmed {
			reqs = append(reqs, identityOf(c.user, c.state))
		}
	}
	confirmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shared.timeout)
	err := s.shared.arbiter.confirm(confirmCtx, reqs)
	cancel()
	if err == nil {
		return nil
	}
	s.observe(ctx, claimConfirmFailed, len(reqs))
	s.warnUnavailable(err)
	s.shared.owe(reqs)
	if s.shared.decideLocally {
		return nil
	}
	return fmt.Errorf("%w: the records were delivered, but their SignUps could not be confirmed: %w", errSharedUnavailable, err)
}

// healthInterval is how often the processor checks that the shared store
// answers, to report its health (a store that is down at start does not
// stop the collector: it starts and reports the component unhealthy).
const healthInterval = 5 * time.Second

// owedInterval is how often confirmations the store did not answer are
// sent again.
const owedInterval = time.Second

// startShared connects the user store to the shared claim store.
func (p *signupProcessor) startShared(ctx context.Context, host component.Host) error {
	client, err := redisclient.NewClient(ctx, p.cfg.Redis.Config)
	if err != nil {
		return err
	}
	p.redis = client
	redisclient.RouteLogs(p.logger)
	tenant := p.cfg.redisTenant()
	p.redisClaims = newRedisClaims(client, p.cfg.Redis.KeyPrefix, tenant, p.cfg.ManagementAPI.Enabled(), p.cfg.Redis.LoginTTL)
	p.users.shared = &sharedClaims{
		arbiter:       p.redisClaims,
		decideLocally: p.cfg.Redis.WhenUnavailable == WhenUnavailableDecideLocally,
		lookups:       p.cfg.ManagementAPI.Enabled() && p.cfg.Lookups.Enabled,
		timeout:       p.cfg.Redis.Timeout,
		logger:        p.logger,
		telemetry:     p.telemetry,
	}
	p.healthStop, p.healthDone = make(chan struct{}), make(chan struct{})
	go p.watchShared(host) //nolint:gosec // the loop outlives Start: Shutdown stops it through healthStop
	p.logger.Info("SignUp claims are shared through Redis", zap.Strings("endpoints", p.cfg.Redis.Addrs()),
		zap.String("tenant", tenant), zap.String("when_unavailable", p.cfg.Redis.WhenUnavailable))
	return nil
}

// watchShared reports the component's health as the store answers or not,
// and sends again the confirmations it did not answer.
func (p *signupProcessor) watchShared(host component.Host) {
	defer close(p.healthDone)
	healthy := true // as the collector reported it at start
	check := func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Redis.Timeout)
		err := p.redis.Ping(ctx).Err()
		cancel()
		switch {
		case err != nil && healthy:
			healthy = false
			p.logger.Warn("the shared SignUp claim store (Redis) does not answer", zap.Error(err))
			componentstatus.ReportStatus(host, componentstatus.NewRecoverableErrorEvent(err))
		case err == nil && !healthy:
			healthy = true
			p.logger.Info("the shared SignUp claim store (Redis) answers again")
			componentstatus.ReportStatus(host, componentstatus.NewEvent(componentstatus.StatusOK))
		}
	}
	check()
	health := time.NewTicker(healthInterval)
	defer health.Stop()
	owed := time.NewTicker(owedInterval)
	defer owed.Stop()
	for {
		select {
		case <-p.healthStop:
			return
		case <-health.C:
			check()
		case <-owed.C:
			_ = p.users.shared.confirmOwed(context.Background())
		}
	}
}

// stopShared ends the health checks, sends the confirmations still owed
// once more, and closes the client.
func (p *signupProcessor) stopShared(ctx context.Context) error {
	if p.redis == nil {
		return nil
	}
	close(p.healthStop)
	<-p.healthDone
	if err := p.users.shared.confirmOwed(ctx); err != nil {
		p.logger.Error("SignUp confirmations the shared claim store (Redis) did not answer are lost at shutdown: those users are not marked in app_metadata",
			zap.Int("confirmations", p.users.shared.owedCount()), zap.Error(err))
	}
	if err := p.redis.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// learnShared reads, in one round trip, the shared claims of the batch's
// users whose records need them (needsSharedClaim), and keeps what it
// learns: a holder's identity, or that a user signed up by Auth0's word
// has no claim. When the store does not answer, the batch meets
// when_unavailable: Auth0's word that a user is signed up may come from
// the update of a claim whose record is still being delivered again.
func (s *userStore) learnShared(ctx context.Context, items []candidate) error {
	if s.shared == nil {
		return nil
	}
	var users []string
	var reasons claimReadCounts
	seen := map[string]bool{}
	for _, c := range items {
		if seen[c.user] {
			continue
		}
		st, _, err := s.get(ctx, c.user)
		if err != nil {
			return err
		}
		if c.needsSharedClaim(st) {
			seen[c.user] = true
			users = append(users, c.user)
			reasons[s.shared.readReason(st)]++
		}
	}
	if len(users) == 0 {
		return nil
	}
	s.shared.countReads(ctx, reasons)
	peekCtx, cancel := context.WithTimeout(ctx, s.shared.timeout)
	held, err := s.shared.arbiter.peek(peekCtx, users)
	cancel()
	if err != nil {
		s.warnUnavailable(err)
		switch {
		case s.shared.decideLocally:
			s.observe(ctx, claimDecidedLocally, len(users))
			return nil
		default:
			s.observe(ctx, claimRefusedUnavailable, len(users))
			return fmt.Errorf("%w: %w", errSharedUnavailable, err)
		}
	}
	for i, user := range users {
		unlock := s.lockUser(user)
		st, _, err := s.get(ctx, user)
		switch {
		case err != nil:
		case st.Claimed:
			// Decided meanwhile, here.
		case held[i] != nil:
			next := held[i].state()
			next.ByCount = false
			s.markDirty(user, next)
		case st.SignedUp && !s.shared.readsEveryBatch(st):
			// Signed up by Auth0's word: no replica claims one of their
			// logins later, so their records need not ask again.
			st.NoSharedClaim = true
			s.markDirty(user, st)
		}
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// Waiting for another replica's SignUp to be delivered: a copy of a record
// whose claim another replica holds, unconfirmed, is the SignUp again
// unless that replica confirms it meanwhile. The usual case is the same
// login reaching two replicas at once (the Action's payload and the log
// stream's record): the holder's pipeline answers within milliseconds, and
// waiting for it makes the copy a dropped duplicate rather than a second
// SignUp event in Splunk. A holder that never confirms (its process died)
// costs the copy deliveryWait, then the copy is the SignUp again.
const deliveryWait = time.Second

// awaitDelivery waits, up to deliveryWait, for the unconfirmed claims held
// elsewhere that the batch has copies of to be confirmed, reading them
// again; held is updated in place.
func (s *userStore) awaitDelivery(ctx context.Context, items []candidate, held []*signupIdentity) {
	waiting := map[string]int{}
	for i, h := range held {
		if h == nil || h.Confirmed {
			continue
		}
		st := h.state()
		for _, c := range items {
			if c.user == h.User && c.copyOf(st) {
				waiting[h.User] = i
				break
			}
		}
	}
	deadline := time.Now().Add(deliveryWait)
	pause := 5 * time.Millisecond
	for len(waiting) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
		users := make([]string, 0, len(waiting))
		for user := range waiting {
			users = append(users, user)
		}
		peekCtx, cancel := context.WithTimeout(ctx, s.shared.timeout)
		now, err := s.shared.arbiter.peek(peekCtx, users)
		cancel()
		if err != nil {
			return
		}
		for j, user := range users {
			if h := now[j]; h != nil && h.Confirmed {
				held[waiting[user]] = h
				delete(waiting, user)
			}
		}
	}
}
