// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// claimArbiter settles SignUp claims that replicas share: a claim is a key
// per tenant and user, set if absent, whose value is the identity of the
// record that carries the user's SignUp (signupIdentity). It is never
// released: a record refused downstream, or left unanswered by a crash,
// keeps its claim, and its sender's redelivery is the SignUp again.
type claimArbiter interface {
	// settle claims each user for the identity given where the user holds
	// no claim yet, atomically per user, and returns for each request the
	// claim the user held before: nil where this call set it.
	settle(ctx context.Context, reqs []signupIdentity) ([]*signupIdentity, error)
	// peek returns, per user, the claim the user holds (nil: none).
	peek(ctx context.Context, users []string) ([]*signupIdentity, error)
	// confirm records that the pipeline accepted the claims' records, so
	// that copies of them reaching any replica are dropped as delivered,
	// and queues each user's app_metadata update when its claim becomes
	// confirmed: once per user, however many replicas confirm it.
	confirm(ctx context.Context, reqs []signupIdentity) error
}

// signupIdentity names the record that holds a user's claim: its id, and
// the login it is about (so that the log stream's record and the Action's
// payload of one login are the same record).
type signupIdentity struct {
	User      string `json:"-"`
	Record    string `json:"r,omitempty"`
	Login     string `json:"l,omitempty"`
	ByAction  bool   `json:"a,omitempty"`
	Confirmed bool   `json:"c,omitempty"`
}

func identityOf(user string, st userState) signupIdentity {
	return signupIdentity{User: user, Record: st.SignupRecord, Login: st.SignupLogin, ByAction: st.SignupByAction, Confirmed: st.Confirmed}
}

// state is what the processor knows of a user whose claim this is.
func (id signupIdentity) state() userState {
	return userState{SignedUp: true, Claimed: true, SignupRecord: id.Record, SignupLogin: id.Login, SignupByAction: id.ByAction, Confirmed: id.Confirmed}
}

// redisClaims keeps claims on a Redis-protocol server. Every key of a
// tenant carries the tenant as a hash tag, so that one script can touch a
// batch's claims and the tenant's update stream on a Redis Cluster too.
type redisClaims struct {
	client redis.UniversalClient
	prefix string // "<key_prefix>:{<tenant>}:"
	// queueUpdates: a won claim also appends its app_metadata update to the
	// tenant's update stream, in the same atomic step.
	queueUpdates bool
}

func newRedisClaims(client redis.UniversalClient, keyPrefix, tenant string, queueUpdates bool) *redisClaims {
	return &redisClaims{client: client, prefix: keyPrefix + ":{" + tenant + "}:", queueUpdates: queueUpdates}
}

func (r *redisClaims) claimKey(user string) string { return r.prefix + "signup:" + user }

// updateStream is the tenant's stream of pending app_metadata updates.
func (r *redisClaims) updateStream() string { return r.prefix + "updates" }

// settleScript: KEYS are the claim keys, ARGV one value per key. SET NX
// GET sets an absent key and answers the previous value (nil when it set
// it) in one step. A claim queues no update: its record may never be
// delivered as the SignUp (refused here while a copy sent to another
// replica was accepted there as a Login), and Auth0 must not mark a user
// whose SignUp never reached Splunk.
var settleScript = redis.NewScript(`
local out = {}
for i = 1, #KEYS do
  local old = redis.call('SET', KEYS[i], ARGV[i], 'NX', 'GET')
  out[i] = old or ''
end
return out
`)

func (r *redisClaims) settle(ctx context.Context, reqs []signupIdentity) ([]*signupIdentity, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(reqs))
	args := make([]any, len(reqs))
	for i, req := range reqs {
		keys[i] = r.claimKey(req.User)
		req.Confirmed = false
		raw, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		args[i] = string(raw)
	}
	res, err := settleScript.Run(ctx, r.client, keys, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	if len(res) != len(reqs) {
		return nil, fmt.Errorf("redis claim script answered %d values for %d claims", len(res), len(reqs))
	}
	held := make([]*signupIdentity, len(reqs))
	for i, v := range res {
		if v == "" {
			continue
		}
		id, err := r.parse(reqs[i].User, v) //nolint:gosec // len(res) == len(reqs), checked above
		if err != nil {
			return nil, err
		}
		held[i] = id
	}
	return held, nil
}

func (r *redisClaims) parse(user, v string) (*signupIdentity, error) {
	id := signupIdentity{User: user}
	if err := json.Unmarshal([]byte(v), &id); err != nil {
		return nil, fmt.Errorf("redis holds an unreadable claim for a user (key %s): %w", r.claimKey(user), err)
	}
	return &id, nil
}

func (r *redisClaims) peek(ctx context.Context, users []string) ([]*signupIdentity, error) {
	if len(users) == 0 {
		return nil, nil
	}
	// GETs in one pipeline rather than MGET: on a Cluster, go-redis sends
	// each to its key's node.
	pipe := r.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(users))
	for i, user := range users {
		cmds[i] = pipe.Get(ctx, r.claimKey(user))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	held := make([]*signupIdentity, len(users))
	for i, user := range users {
		v, err := cmds[i].Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, err := r.parse(user, v)
		if err != nil {
			return nil, err
		}
		held[i] = id
	}
	return held, nil
}

// confirmScript: KEYS[1] is the update stream, KEYS[2..] the claim keys;
// ARGV[1] says whether to queue updates, then per claim key its value
// unconfirmed, its value confirmed and its user. A claim that holds the
// record unconfirmed, or that is absent (decided while the store could not
// answer, or lost with the store's data), becomes confirmed and queues the
// user's update in the same step: only the call that makes that change
// queues it. A claim confirmed already, or held by another record, is left
// as it is.
var confirmScript = redis.NewScript(`
local n = #KEYS - 1
for i = 1, n do
  local cur = redis.call('GET', KEYS[i + 1])
  if not cur or cur == ARGV[1 + i] then
    redis.call('SET', KEYS[i + 1], ARGV[1 + n + i])
    if ARGV[1] == '1' then
      redis.call('XADD', KEYS[1], '*', 'user', ARGV[1 + 2 * n + i])
    end
  end
end
return n
`)

func (r *redisClaims) confirm(ctx context.Context, reqs []signupIdentity) error {
	if len(reqs) == 0 {
		return nil
	}
	n := len(reqs)
	keys := make([]string, n+1)
	args := make([]any, 3*n+1)
	keys[0] = r.updateStream()
	args[0] = map[bool]string{true: "1", false: "0"}[r.queueUpdates]
	for i, req := range reqs {
		keys[1+i] = r.claimKey(req.User)
		req.Confirmed = false
		unconfirmed, err := json.Marshal(req)
		if err != nil {
			return err
		}
		req.Confirmed = true
		confirmed, err := json.Marshal(req)
		if err != nil {
			return err
		}
		args[1+i], args[1+n+i], args[1+2*n+i] = string(unconfirmed), string(confirmed), req.User
	}
	return confirmScript.Run(ctx, r.client, keys, args...).Err()
}
