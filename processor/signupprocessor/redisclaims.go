// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimArbiter settles SignUp claims that replicas share: a claim is a key
// per tenant and user, set if absent, whose value is the identity of the
// record that carries the user's SignUp (signupIdentity). It is never
// released: a record refused downstream, or left unanswered by a crash,
// keeps its claim, and its sender's redelivery is the SignUp again.
type claimArbiter interface {
	// settle answers the requests in order, each atomically: a claim sets
	// the user's claim for its identity where the user holds none and no
	// replica decided its record a Login; a Login registers its record as
	// decided so where the user holds no claim. Each answer says what the
	// user held before (nil where nothing stood in the way).
	settle(ctx context.Context, reqs []settleRequest) ([]settleAnswer, error)
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

// settleRequest is a claim of a user's SignUp for identity, or with login
// the registration of identity.Record as decided a Login without a claim:
// a replica that decided a record so while another may claim it (its
// lookup failed or was skipped, or it knew the user by a logins count
// only) registers it before delivering, so that a copy of the record
// reaching another replica is a Login there too. Without the registration
// the two copies could be decided two ways, and if the claimer's were then
// refused or lost, the sender's retry would reach the replica that
// delivered the Login and be dropped as delivered: the claim would hold a
// record that never becomes the SignUp.
type settleRequest struct {
	identity signupIdentity
	login    bool
}

// settleAnswer is what stood in the way of a request: the claim the user
// held, or for a claim, that a replica registered its record as a Login
// (loginElsewhere). Neither: the claim was set, or the Login registered.
type settleAnswer struct {
	held           *signupIdentity
	loginElsewhere bool
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
	// loginTTL is how long a record registered as a Login is remembered.
	loginTTL time.Duration
}

func newRedisClaims(client redis.UniversalClient, keyPrefix, tenant string, queueUpdates bool, loginTTL time.Duration) *redisClaims {
	return &redisClaims{client: client, prefix: keyPrefix + ":{" + tenant + "}:", queueUpdates: queueUpdates, loginTTL: loginTTL}
}

func (r *redisClaims) claimKey(user string) string { return r.prefix + "signup:" + user }

// loginKey marks a record decided a Login without a claim.
func (r *redisClaims) loginKey(record string) string { return r.prefix + "login:" + record }

// updateStream is the tenant's stream of pending app_metadata updates.
func (r *redisClaims) updateStream() string { return r.prefix + "updates" }

// settleScript: KEYS are pairs, a user's claim key and the login key of
// the request's record; ARGV[1] is the login keys' time to live in
// milliseconds, then per request the claim's value, or an empty string for
// a Login. Each request reads the claim and acts only where there is none,
// so that a claim and a Login of one record, from two replicas, are
// ordered: the first stands and the second learns it. A claim that loses
// to a Login renews it, since its replica delivers the record as a Login
// too: the key then outlives every replica's dedupe of the record. A claim
// queues no update: its record may never be delivered as the SignUp
// (refused here while a copy sent to another replica was accepted there as
// a Login), and Auth0 must not mark a user whose SignUp never reached
// Splunk. The answer per request is the claim held before, loginAnswer
// where a Login of the record stood in the way of a claim, or an empty
// string.
var settleScript = redis.NewScript(`
local out = {}
for i = 1, #KEYS / 2 do
  local claim, login, value = KEYS[2 * i - 1], KEYS[2 * i], ARGV[1 + i]
  local held = redis.call('GET', claim)
  if held then
    out[i] = held
  elseif value == '' then
    redis.call('SET', login, '1', 'PX', ARGV[1])
    out[i] = ''
  elseif redis.call('PEXPIRE', login, ARGV[1]) == 1 then
    out[i] = 'login'
  else
    redis.call('SET', claim, value)
    out[i] = ''
  end
end
return out
`)

// loginAnswer is the settle script's answer to a claim whose record a
// replica decided a Login; a held claim is a JSON object.
const loginAnswer = "login"

func (r *redisClaims) settle(ctx context.Context, reqs []settleRequest) ([]settleAnswer, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, 2*len(reqs))
	args := make([]any, 1, 1+len(reqs))
	args[0] = max(r.loginTTL.Milliseconds(), 1)
	for _, req := range reqs {
		keys = append(keys, r.claimKey(req.identity.User), r.loginKey(req.identity.Record))
		if req.login {
			args = append(args, "")
			continue
		}
		id := req.identity
		id.Confirmed = false
		raw, err := json.Marshal(id)
		if err != nil {
			return nil, err
		}
		args = append(args, string(raw))
	}
	res, err := settleScript.Run(ctx, r.client, keys, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	if len(res) != len(reqs) {
		return nil, fmt.Errorf("redis claim script answered %d values for %d requests", len(res), len(reqs))
	}
	answers := make([]settleAnswer, len(reqs))
	for i, v := range res {
		switch v {
		case "":
		case loginAnswer:
			answers[i].loginElsewhere = true
		default:
			id, err := r.parse(reqs[i].identity.User, v)
			if err != nil {
				return nil, err
			}
			answers[i].held = id
		}
	}
	return answers, nil
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
