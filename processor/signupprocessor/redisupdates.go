// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/retry"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

const (
	// redisUpdateGroup is the consumer group every replica reads the
	// stream of updates in.
	redisUpdateGroup = "signup"
	// redisUpdateBlock bounds one wait for new entries, and so how long
	// stop waits for a worker that is waiting for work.
	redisUpdateBlock = time.Second
	// redisDepthEvery is how often the cached depth is read from Redis.
	redisDepthEvery = 2 * time.Second
	// redisForgetAfter, in leases, is how long a consumer with nothing
	// pending may go unseen before any replica removes it from the group:
	// a crashed process never removes its own.
	redisForgetAfter = 10
	// Bounds of the wait between attempts while Redis cannot be reached.
	minRedisRetry = 100 * time.Millisecond
	maxRedisRetry = 5 * time.Second
)

// forgetConsumer deletes a consumer from the group only if no entry is
// pending for it: deleting one with pending entries would strand them.
var forgetConsumer = redis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then
  return 0
end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`)

// redisUpdates marks users signed up in Auth0 from a Redis stream that
// every replica shares: confirming a SignUp claim in Redis (its record
// delivered) appends the user's update (an entry with a "user" field) in
// the same script, and whichever replica is free applies it. An entry
// stays in the stream until its update is done (applied, or dropped for
// good), then it is acknowledged and deleted, so what a stopped or dead
// replica took is never lost: its lease runs out and another replica
// takes it over.
type redisUpdates struct {
	client    redis.UniversalClient
	stream    string
	consumer  string
	sender    *updateSender
	workers   int
	lease     time.Duration
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	// taking ends when stop is called: no new entries are taken.
	taking     context.Context
	stopTaking context.CancelFunc
	// working ends when the drain does: updates in progress stop and stay
	// pending in Redis.
	working    context.Context
	stopWork   context.CancelFunc
	workerDone sync.WaitGroup
	// background renews leases and reads the depth until the workers are done.
	background     context.Context
	stopBackground context.CancelFunc
	backgroundDone sync.WaitGroup

	mu             sync.Mutex
	inFlight       map[string]bool // entry IDs this replica works on
	groupReady     bool
	nextSweep      time.Time // when to look for idle entries again
	sweepFrom      string    // where the look for idle entries goes on
	lastRedisAlarm time.Time

	cachedDepth atomic.Int64
}

func newRedisUpdates(client redis.UniversalClient, stream string, api *mgmtapi.Client, signedUpKey string, cfg UpdateConfig, logger *zap.Logger, telemetry *metadata.TelemetryBuilder) *redisUpdates {
	r := &redisUpdates{
		client:    client,
		stream:    stream,
		consumer:  consumerName(),
		sender:    newUpdateSender(api, signedUpKey, cfg.RetryOnFailure, logger, telemetry),
		workers:   cfg.Workers,
		lease:     cfg.Lease,
		logger:    logger,
		telemetry: telemetry,
		inFlight:  map[string]bool{},
		sweepFrom: "0-0",
	}
	r.taking, r.stopTaking = context.WithCancel(context.Background())
	r.working, r.stopWork = context.WithCancel(context.Background())
	r.background, r.stopBackground = context.WithCancel(context.Background())
	return r
}

// consumerName is unique per process: a restarted process is a new
// consumer, whose predecessor's entries are taken over like any dead
// replica's.
func consumerName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (r *redisUpdates) start() {
	for range r.workers {
		r.workerDone.Add(1)
		go r.work()
	}
	r.backgroundDone.Add(1)
	go r.maintain()
}

// stop takes no new entries, lets the updates in progress finish within
// drainTimeout (bounded by ctx), and leaves the rest pending in Redis for
// any replica.
func (r *redisUpdates) stop(ctx context.Context, drainTimeout time.Duration) {
	r.stopTaking()
	done := waitWorkers(ctx, &r.workerDone, drainTimeout)
	r.stopWork()
	<-done
	r.stopBackground()
	r.backgroundDone.Wait()

	// A consumer with nothing pending is forgotten, so that the group
	// does not collect one per process start.
	forgetCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := forgetConsumer.Run(forgetCtx, r.client, []string{r.stream}, redisUpdateGroup, r.consumer).Err(); err != nil {
		r.logger.Debug("could not remove this replica's consumer from the update group", zap.Error(err))
	}
}

// depth is the number of updates waiting or in progress in the whole
// fleet, as last read from Redis.
func (r *redisUpdates) depth() int {
	return int(r.cachedDepth.Load())
}

func (r *redisUpdates) work() {
	defer r.workerDone.Done()
	wait := minRedisRetry
	for r.taking.Err() == nil {
		id, user, ok, err := r.take()
		if err != nil {
			r.redisTrouble("cannot take app_metadata updates from Redis; retrying", err)
			if retry.Sleep(r.taking, wait) != nil {
				return
			}
			wait = min(2*wait, maxRedisRetry)
			continue
		}
		wait = minRedisRetry
		if ok {
			r.handle(id, user)
		}
	}
}

// take returns an entry for this replica: one whose lease ran out, or a
// new one; ok is false when there was none.
func (r *redisUpdates) take() (id, user string, ok bool, err error) {
	if err := r.ensureGroup(); err != nil {
		return "", "", false, err
	}
	msg, ok, err := r.sweep()
	if err != nil || ok {
		return msg.ID, entryUser(msg), ok, r.noGroup(err)
	}
	// Not r.taking: a read cancelled after Redis delivered an entry would
	// leave it pending here until its lease ran out.
	streams, err := r.client.XReadGroup(r.working, &redis.XReadGroupArgs{
		Group:    redisUpdateGroup,
		Consumer: r.consumer,
		Streams:  []string{r.stream, ">"},
		Count:    1,
		Block:    redisUpdateBlock,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, r.noGroup(err)
	}
	for _, s := range streams {
		for _, m := range s.Messages {
			return m.ID, entryUser(m), true, nil
		}
	}
	return "", "", false, nil
}

func entryUser(m redis.XMessage) string {
	user, _ := m.Values["user"].(string)
	return user
}

// sweep takes over one entry that sat idle longer than a lease: its
// replica died, or stopped before finishing it. It walks the group's
// pending entries a few at a time and rests for half a lease once it has
// walked them all without finding one.
func (r *redisUpdates) sweep() (redis.XMessage, bool, error) {
	r.mu.Lock()
	if time.Now().Before(r.nextSweep) {
		r.mu.Unlock()
		return redis.XMessage{}, false, nil
	}
	from := r.sweepFrom
	r.mu.Unlock()
	msgs, next, err := r.client.XAutoClaim(r.working, &redis.XAutoClaimArgs{
		Stream:   r.stream,
		Group:    redisUpdateGroup,
		Consumer: r.consumer,
		MinIdle:  r.lease,
		Start:    from,
		Count:    1,
	}).Result()
	if err != nil {
		return redis.XMessage{}, false, err
	}
	r.mu.Lock()
	r.sweepFrom = next
	if next == "0-0" && len(msgs) == 0 {
		r.nextSweep = time.Now().Add(r.lease / 2)
	}
	r.mu.Unlock()
	if len(msgs) == 0 {
		return redis.XMessage{}, false, nil
	}
	r.logger.Debug("taking over an app_metadata update another replica left unfinished", zap.String("id", msgs[0].ID))
	return msgs[0], true, nil
}

// ensureGroup creates the stream and the group unless this replica saw
// them: whoever starts first creates them, the others are told BUSYGROUP.
func (r *redisUpdates) ensureGroup() error {
	r.mu.Lock()
	ready := r.groupReady
	r.mu.Unlock()
	if ready {
		return nil
	}
	err := r.client.XGroupCreateMkStream(r.working, r.stream, redisUpdateGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	r.mu.Lock()
	r.groupReady = true
	r.mu.Unlock()
	return nil
}

// noGroup notices that the stream or the group is gone (Redis lost its
// data, or someone deleted the key), so that the next take makes them
// again.
func (r *redisUpdates) noGroup(err error) error {
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		r.mu.Lock()
		r.groupReady = false
		r.mu.Unlock()
	}
	return err
}

// handle applies one entry's update and, once it is done, removes the
// entry. An update the drain cut short stays pending.
func (r *redisUpdates) handle(id, user string) {
	if user == "" {
		r.logger.Warn("an entry of the app_metadata update stream has no user; removed", zap.String("stream", r.stream), zap.String("id", id))
		r.complete(id)
		return
	}
	r.mu.Lock()
	if r.inFlight[id] {
		// Taken over from this replica itself: its lease lapsed while
		// Redis did not answer the renewals, and another of its workers
		// is applying it.
		r.mu.Unlock()
		return
	}
	r.inFlight[id] = true
	r.mu.Unlock()
	done := r.sender.send(r.working, user)
	if done {
		r.complete(id)
	}
	r.mu.Lock()
	delete(r.inFlight, id)
	r.mu.Unlock()
}

// complete acknowledges and deletes a done entry, both or neither,
// retrying while Redis cannot be reached. If the drain ends first the
// entry stays pending and another replica sends its update once more: a
// second write of the flag changes nothing.
func (r *redisUpdates) complete(id string) {
	wait := minRedisRetry
	for {
		_, err := r.client.TxPipelined(r.working, func(p redis.Pipeliner) error {
			p.XAck(r.working, r.stream, redisUpdateGroup, id)
			p.XDel(r.working, r.stream, id)
			return nil
		})
		if err == nil {
			return
		}
		r.redisTrouble("cannot record a done app_metadata update in Redis; retrying", err)
		if retry.Sleep(r.working, wait) != nil {
			return
		}
		wait = min(2*wait, maxRedisRetry)
	}
}

// maintain renews the leases of the entries in progress every third of a
// lease, reads the depth, and removes consumers of gone processes, until
// stop.
func (r *redisUpdates) maintain() {
	defer r.backgroundDone.Done()
	renew := time.NewTicker(r.lease / 3)
	defer renew.Stop()
	depth := time.NewTicker(redisDepthEvery)
	defer depth.Stop()
	prune := time.NewTicker(redisForgetAfter * r.lease)
	defer prune.Stop()
	r.readDepth()
	for {
		select {
		case <-r.background.Done():
			return
		case <-renew.C:
			r.renew()
		case <-depth.C:
			r.readDepth()
		case <-prune.C:
			r.pruneConsumers()
		}
	}
}

// pruneConsumers removes the consumers, left by processes that crashed,
// that have nothing pending (their entries were taken over) and were not
// seen for redisForgetAfter leases. Redis may count a live consumer that
// waits for entries as unseen; removing it with nothing pending loses
// nothing, and the next entry it is given adds it again.
func (r *redisUpdates) pruneConsumers() {
	consumers, err := r.client.XInfoConsumers(r.background, r.stream, redisUpdateGroup).Result()
	if err != nil {
		return
	}
	for _, c := range consumers {
		if c.Pending == 0 && c.Idle > redisForgetAfter*r.lease && c.Name != r.consumer {
			_ = forgetConsumer.Run(r.background, r.client, []string{r.stream}, redisUpdateGroup, c.Name).Err()
		}
	}
}

// renew claims this replica's entries in progress again, which resets
// their idle time: no other replica takes over an update that is being
// worked on, however long it takes. Should a renewal fail for longer than
// a lease, another replica may send the same update too, which is
// harmless.
func (r *redisUpdates) renew() {
	r.mu.Lock()
	ids := make([]string, 0, len(r.inFlight))
	for id := range r.inFlight {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	err := r.client.XClaimJustID(r.background, &redis.XClaimArgs{
		Stream:   r.stream,
		Group:    redisUpdateGroup,
		Consumer: r.consumer,
		MinIdle:  0,
		Messages: ids,
	}).Err()
	if err != nil && r.background.Err() == nil {
		r.redisTrouble("cannot renew the lease of app_metadata updates in progress; another replica may send them too", err)
	}
}

// readDepth caches the stream's length: done entries are deleted, so it
// counts the updates waiting and in progress.
func (r *redisUpdates) readDepth() {
	n, err := r.client.XLen(r.background, r.stream).Result()
	if err == nil {
		r.cachedDepth.Store(n)
	}
}

// redisTrouble logs a failing Redis at most once a minute.
func (r *redisUpdates) redisTrouble(msg string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.lastRedisAlarm) < time.Minute {
		return
	}
	r.lastRedisAlarm = time.Now()
	r.logger.Warn(msg, zap.String("stream", r.stream), zap.Error(err))
}
