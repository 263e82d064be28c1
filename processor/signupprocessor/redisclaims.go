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
	// that copies of them reaching any replica are dropped as delivered.
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

// settleScript: KEYS[1] is the update stream, KEYS[2..] the claim keys;
// ARGV[1] says whether to queue updates, then one value and one user id per
// claim key. SET NX GET sets an absent key and answers the previous value
// (nil when it set it) in one step; the update is queued only by the call
// that set the claim, so each user gets one however many replicas ask.
var settleScript = redis.NewScript(`
local n = #KEYS - 1
local out = {}
for i = 1, n do
  local old = redis.call('SET', KEYS[i + 1], ARGV[1 + i], 'NX', 'GET')
  if old then
    out[i] = old
  else
    out[i] = ''
    if ARGV[1] == '1' then
      redis.call('XADD', KEYS[1], '*', 'user', ARGV[1 + n + i])
    end
  end
end
return out
`)

func (r *redisClaims) settle(ctx context.Context, reqs []signupIdentity) ([]*signupIdentity, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(reqs)+1)
	args := make([]any, 0, 2*len(reqs)+1)
	keys = append(keys, r.updateStream())
	args = append(args, map[bool]string{true: "1", false: "0"}[r.queueUpdates])
	for _, req := range reqs {
		keys = append(keys, r.claimKey(req.User))
		req.Confirmed = false
		raw, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		args = append(args, string(raw))
	}
	for _, req := range reqs {
		args = append(args, req.User)
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
		user := reqs[i].User //nolint:gosec // len(res) == len(reqs), checked above
		id := signupIdentity{User: user}
		if err := json.Unmarshal([]byte(v), &id); err != nil {
			return nil, fmt.Errorf("redis holds an unreadable claim for a user (key %s): %w", r.claimKey(user), err)
		}
		held[i] = &id
	}
	return held, nil
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
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		id := signupIdentity{User: users[i]}
		if err := json.Unmarshal([]byte(v), &id); err != nil {
			return nil, fmt.Errorf("redis holds an unreadable claim for a user (key %s): %w", r.claimKey(users[i]), err)
		}
		held[i] = &id
	}
	return held, nil
}

// confirm rewrites each claim with its confirmation. Only the call that
// set a claim confirms it, with the identity it set, so SET XX replaces
// nothing but the flag.
func (r *redisClaims) confirm(ctx context.Context, reqs []signupIdentity) error {
	if len(reqs) == 0 {
		return nil
	}
	pipe := r.client.Pipeline()
	for _, req := range reqs {
		req.Confirmed = true
		raw, err := json.Marshal(req)
		if err != nil {
			return err
		}
		pipe.SetXX(ctx, r.claimKey(req.User), raw, 0)
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}
