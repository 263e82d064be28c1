// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// signupProcessor implements consumer.Logs itself rather than through
// processorhelper: it must act on the next consumer's answer (confirm the
// SignUps and queue their updates only once the pipeline accepted them).
type signupProcessor struct {
	cfg       *Config
	settings  processor.Settings
	next      consumer.Logs
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	// Set up by Start.
	storageClient storage.Client
	flushStop     chan struct{}
	flushDone     chan struct{}
	users         *userStore
	api           *mgmtapi.Client
	lookups       *lookuper
	updates       *updateQueue
	redis         redis.UniversalClient // nil without a shared claim store
	redisClaims   *redisClaims          // the shared claim store, when set
	redisUpdates  *redisUpdates         // the updates, with a shared claim store
	healthStop    chan struct{}
	healthDone    chan struct{}
}

func newProcessor(set processor.Settings, cfg *Config, next consumer.Logs) (*signupProcessor, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &signupProcessor{cfg: cfg, settings: set, next: next, logger: set.Logger, telemetry: telemetry}, nil
}

func (p *signupProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

func (p *signupProcessor) Start(ctx context.Context, host component.Host) error {
	if p.cfg.Storage != nil {
		client, err := storageClient(ctx, host, *p.cfg.Storage, p.settings.ID)
		if err != nil {
			return err
		}
		p.storageClient = client
	}
	users, err := newUserStore(p.cfg.CacheSize, p.storageClient)
	if err != nil {
		return err
	}
	p.users = users
	if p.cfg.Redis.Enabled() {
		if err := p.startShared(ctx, host); err != nil {
			return err
		}
	}
	if p.storageClient != nil {
		p.flushStop, p.flushDone = make(chan struct{}), make(chan struct{})
		go p.flushLoop() //nolint:gosec // the loop outlives Start: Shutdown stops it through flushStop
	}

	if !p.cfg.ManagementAPI.Enabled() {
		p.logger.Info("no Auth0 Management API credentials (management_api domain, client_id, client_secret): " +
			"SignUp and Login are decided from the records and the processor's own store; app_metadata lookups and updates are off")
		return nil
	}
	var opts []mgmtapi.Option
	if p.redis != nil {
		// Every replica spends one budget, the tenant's, kept in Redis.
		opts = append(opts, mgmtapi.WithSharedLimiter(mgmtapi.NewRedisLimiter(p.redis, p.cfg.Redis.KeyPrefix, p.cfg.redisTenant(), p.cfg.ManagementAPI.RateLimit, p.logger)))
	}
	api, err := mgmtapi.New(ctx, p.cfg.ManagementAPI, host, p.settings.TelemetrySettings, opts...)
	if err != nil {
		return err
	}
	p.api = api
	if p.cfg.Lookups.Enabled {
		p.lookups = &lookuper{api: api, signedUpKey: p.cfg.SignedUpKey, cfg: p.cfg.Lookups, logger: p.logger, telemetry: p.telemetry}
	}
	var depth func() int
	if p.redis != nil {
		// Confirming a claim queues its user's update on the tenant's
		// stream; any replica applies it.
		p.redisUpdates = newRedisUpdates(p.redis, p.redisClaims.updateStream(), api, p.cfg.SignedUpKey, p.cfg.Updates, p.logger, p.telemetry)
		depth = p.redisUpdates.depth
	} else {
		p.updates = newUpdateQueue(api, p.cfg.SignedUpKey, p.cfg.Updates, p.storageClient, p.logger, p.telemetry)
		if err := p.updates.load(ctx); err != nil {
			return fmt.Errorf("reading pending app_metadata updates from storage: %w", err)
		}
		depth = p.updates.depth
	}
	if err := p.telemetry.RegisterProcessorSignupUpdateQueueSizeCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(depth()))
		return nil
	}); err != nil {
		return err
	}
	if p.redisUpdates != nil {
		p.redisUpdates.start()
	} else {
		p.updates.start()
	}
	p.logger.Info("marking new users in Auth0", zap.String("domain", p.cfg.ManagementAPI.Domain),
		zap.String("app_metadata_key", p.cfg.SignedUpKey), zap.Bool("lookups", p.cfg.Lookups.Enabled))
	return nil
}

func storageClient(ctx context.Context, host component.Host, id, owner component.ID) (storage.Client, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("storage extension %q is not configured (add it under extensions and service::extensions)", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a storage extension", id)
	}
	return se.GetClient(ctx, component.KindProcessor, owner, "")
}

// Shutdown drains the update queue within updates.drain_timeout; what is
// left stays in storage for the next start.
func (p *signupProcessor) Shutdown(ctx context.Context) error {
	if p.updates != nil {
		p.updates.stop(ctx, p.cfg.Updates.DrainTimeout)
	}
	if p.redisUpdates != nil {
		p.redisUpdates.stop(ctx, p.cfg.Updates.DrainTimeout)
	}
	if p.api != nil {
		p.api.Close()
	}
	p.telemetry.Shutdown()
	err := p.stopShared(ctx)
	if p.storageClient != nil {
		if p.flushStop != nil {
			close(p.flushStop)
			<-p.flushDone
		}
		err = errors.Join(err, p.users.flush(ctx), p.storageClient.Close(ctx))
	}
	return err
}

// flushInterval bounds how long a learned state or a confirmation stays
// in memory only.
const flushInterval = time.Second

func (p *signupProcessor) flushLoop() {
	defer close(p.flushDone)
	ticker := time.NewTicker(flushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.flushStop:
			return
		case <-ticker.C:
			if err := p.users.flush(context.Background()); err != nil {
				p.logger.Warn("could not write user states to storage; they will be learned again after a restart", zap.Error(err))
			}
		}
	}
}

// ConsumeLogs decides, shapes, writes the SignUp claims ahead, delivers,
// then confirms (claims.go has the life of a claim).
func (p *signupProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b := p.collect(ld)
	if err := p.users.prefetch(ctx, b.users()); err != nil {
		return fmt.Errorf("signup processor could not read user states from storage: %w", err)
	}
	if err := p.users.learnShared(ctx, b.items); err != nil {
		return err
	}
	p.lookupUnknown(ctx, b)
	decisions, claims, err := p.users.decideBatch(ctx, b.items, b.lookups, p.reserver())
	if err != nil {
		return err
	}
	b.decisions = decisions
	p.apply(b, ld)

	if err := claims.writeAhead(ctx); err != nil {
		p.rollback(ctx, claims)
		return fmt.Errorf("signup processor could not record its decisions in storage: %w", err)
	}
	if ld.LogRecordCount() > 0 {
		if err := p.next.ConsumeLogs(ctx, ld); err != nil {
			p.rollback(ctx, claims)
			return err
		}
	}
	// The records are in the pipeline whatever the confirmation's fate.
	confirmErr := claims.confirm(ctx)
	p.countRecords(ctx, b)
	return confirmErr
}

// reserver is the update queue claims reserve places in, if any.
func (p *signupProcessor) reserver() updateReserver {
	if p.updates == nil {
		return nil
	}
	return p.updates
}

// rollback undoes a batch's claims: the pipeline refused its records,
// which their senders deliver again.
func (p *signupProcessor) rollback(ctx context.Context, claims *claimSet) {
	if err := claims.rollback(ctx); err != nil {
		p.logger.Warn("could not undo refused SignUp claims in storage; after a restart each claim still holds its record, whose redelivery is the SignUp", zap.Error(err))
	}
}

// batch is one ConsumeLogs call's records and what was decided for them.
type batch struct {
	records    []plog.LogRecord
	candidates []int // index into records, -1 for a record that is no candidate
	items      []candidate
	rules      []ruleFields // the Rule's event fields of each item
	decisions  []decision
	lookups    map[string]lookupResult
	outcomes   outcomeCounts
}

// users lists the batch's candidates' users, each once.
func (b *batch) users() []string {
	seen := make(map[string]struct{}, len(b.items))
	users := make([]string, 0, len(b.items))
	for _, c := range b.items {
		if _, ok := seen[c.user]; !ok {
			seen[c.user] = struct{}{}
			users = append(users, c.user)
		}
	}
	return users
}

func (p *signupProcessor) collect(ld plog.Logs) *batch {
	n := ld.LogRecordCount()
	b := &batch{
		records:    make([]plog.LogRecord, 0, n),
		candidates: make([]int, 0, n),
		items:      make([]candidate, 0, n),
		rules:      make([]ruleFields, 0, n),
	}
	now := time.Now()
	for i := range ld.ResourceLogs().Len() {
		scopes := ld.ResourceLogs().At(i).ScopeLogs()
		for j := range scopes.Len() {
			records := scopes.At(j).LogRecords()
			for k := range records.Len() {
				lr := records.At(k)
				b.records = append(b.records, lr)
				f := readFields(lr.Attributes())
				c, ok := readCandidate(f, lr.Body(), p.cfg.SignedUpKey)
				if !ok {
					b.candidates = append(b.candidates, -1)
					continue
				}
				c.at = now.UnixMilli()
				c.stale = p.cfg.Lookups.Enabled && lr.ObservedTimestamp() != 0 &&
					now.Sub(lr.ObservedTimestamp().AsTime()) > p.cfg.Lookups.CheckSignUpsOlderThan
				b.candidates = append(b.candidates, len(b.items))
				b.items = append(b.items, c)
				b.rules = append(b.rules, f.rule())
			}
		}
	}
	first := map[string]bool{}
	for _, c := range b.items {
		if c.kind == auth0event.KindSignup || (c.kind == auth0event.KindLogin && c.hasCount && c.loginsCount == 1) {
			first[c.user] = true
		}
	}
	for i := range b.items {
		b.items[i].firstInBatch = first[b.items[i].user]
	}
	return b
}

// lookupUnknown asks the Management API about the users of this batch that
// only it can tell about, each once.
func (p *signupProcessor) lookupUnknown(ctx context.Context, b *batch) {
	if p.lookups == nil {
		return
	}
	// A signup record or app_metadata anywhere in the batch tells about
	// its user: no need to ask, unless the record waited long enough for
	// another collector to have counted the user meanwhile.
	told := map[string]bool{}
	for _, c := range b.items {
		if (c.kind == auth0event.KindSignup || c.appMetadata) && !c.stale {
			told[c.user] = true
		}
	}
	var users, waiting, rechecks []string
	for _, c := range b.items {
		if told[c.user] {
			continue
		}
		st, _, _ := p.users.get(ctx, c.user)
		switch {
		case c.needsSignUpCheck(st):
			told[c.user] = true
			waiting = append(waiting, c.user)
		case c.needsLookup(st):
			told[c.user] = true
			users = append(users, c.user)
		case c.needsRecheck(st, p.cfg.Lookups.RecheckByCountAfter):
			told[c.user] = true
			rechecks = append(rechecks, c.user)
		}
	}
	if len(users)+len(waiting)+len(rechecks) > 0 {
		// Rechecks last: the users nothing is known of take the read
		// budget first.
		b.lookups = p.lookups.lookupAll(ctx, append(users, rechecks...), waiting)
	}
}

// apply writes decisions onto the records, removes dropped ones and
// counts outcomes.
func (p *signupProcessor) apply(b *batch, ld plog.Logs) {
	drop := make([]bool, len(b.records))
	b.outcomes = make(outcomeCounts, 0, 8)
	dropOther := p.cfg.OtherRecords == OtherRecordsDrop
	for i, lr := range b.records {
		d := decision{basis: basisNone}
		var rule ruleFields
		if idx := b.candidates[i]; idx >= 0 {
			d, rule = b.decisions[idx], b.rules[idx]
		}
		switch {
		case d.drop:
			drop[i] = true
			b.outcomes.add(outcomeKey{outcomeDroppedDuplicate, d.basis})
		case d.event == "" && dropOther:
			drop[i] = true
			b.outcomes.add(outcomeKey{outcomeDroppedOther, d.basis})
		case d.event == "":
			p.shapeSplunk(lr)
			b.outcomes.add(outcomeKey{outcomePassed, d.basis})
		case d.redelivery:
			p.shapeTagged(lr, d, rule)
			b.outcomes.add(outcomeKey{outcomeSignUpRedelivery, d.basis})
		default:
			p.shapeTagged(lr, d, rule)
			b.outcomes.add(outcomeKey{eventOutcome(d.event), d.basis})
		}
	}
	removeRecords(ld, drop)
	b.records = nil // the handles are invalid now
}

func removeRecords(ld plog.Logs, drop []bool) {
	i := 0
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(plog.LogRecord) bool {
				d := drop[i]
				i++
				return d
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
}
