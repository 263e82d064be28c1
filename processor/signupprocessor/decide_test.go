// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

func TestDecide(t *testing.T) {
	login := candidate{user: "u", id: "r2", kind: auth0event.KindLogin}
	signupRec := candidate{user: "u", id: "r1", kind: auth0event.KindSignup}
	with := func(c candidate, f func(*candidate)) candidate { f(&c); return c }
	mine := userState{SignedUp: true, Claimed: true, SignupRecord: "r1", Confirmed: true}
	doubt := userState{SignedUp: true, Claimed: true, SignupRecord: "r1"}
	actionClaim := userState{SignedUp: true, Claimed: true, SignupRecord: "action-uuid", SignupLogin: "u#1", SignupByAction: true, Confirmed: true}
	byCount := userState{SignedUp: true, ByCount: true}
	streamClaim := actionClaim
	streamClaim.SignupByAction = false
	firstLogin := with(login, func(c *candidate) { c.hasCount, c.loginsCount, c.login = true, 1, "u#1" })
	known := userState{SignedUp: true}

	tests := []struct {
		name      string
		c         candidate
		st        userState
		own       bool
		lookup    lookupResult
		wantEvent string
		wantBasis string
		drop      bool
		claim     bool
		learns    bool
	}{
		{"signup type is SignUp", signupRec, userState{}, false, lookupResult{}, "SignUp", basisSignupType, false, true, true},
		{"first login after the signup is Login", login, mine, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"redelivered SignUp record is dropped", with(login, func(c *candidate) { c.id = "r1" }), mine, false, lookupResult{}, "", basisStore, true, false, false},
		{"a copy in the batch that claimed the SignUp is dropped", with(login, func(c *candidate) { c.id = "r1" }), doubt, true, lookupResult{}, "", basisStore, true, false, false},
		{"unconfirmed claim from before a restart is emitted again", with(login, func(c *candidate) { c.id = "r1" }), doubt, false, lookupResult{}, "SignUp", basisStore, false, true, true},
		{"after a doubtful claim another login is a Login: only the claimed record is the SignUp", login, doubt, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"after a doubtful claim another signup record is untagged", with(signupRec, func(c *candidate) { c.id = "r9" }), doubt, false, lookupResult{}, "", basisStore, false, false, false},
		{"a doubtful claim of an older store format holds too", login, userState{SignedUp: true, SignupRecord: "r1"}, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"a doubtful claim of an older store format makes its record the SignUp again", with(login, func(c *candidate) { c.id = "r1" }), userState{SignedUp: true, SignupRecord: "r1"}, false, lookupResult{}, "SignUp", basisStore, false, true, true},
		{"after a doubtful claim a marked app_metadata is Login", with(login, func(c *candidate) { c.appMetadata, c.signedUp = true, true }), doubt, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"after a doubtful claim a password exchange is Login", with(login, func(c *candidate) { c.kind = auth0event.KindPasswordExchange }), doubt, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"the batch's own claim is no doubt", login, doubt, true, lookupResult{}, "Login", basisStore, false, false, false},
		{"the same login from the other source is dropped", firstLogin, actionClaim, false, lookupResult{}, "", basisStore, true, false, false},
		{"the same login count from the same source is another record", firstLogin, streamClaim, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"another login of a claimed user is Login", with(firstLogin, func(c *candidate) { c.loginsCount, c.login = 2, "u#2" }), actionClaim, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"late signup record after the SignUp is untagged", with(signupRec, func(c *candidate) { c.id = "r0" }), mine, false, lookupResult{}, "", basisStore, false, false, false},
		{"app_metadata says signed up", with(login, func(c *candidate) { c.appMetadata, c.signedUp = true, true }), userState{}, false, lookupResult{}, "Login", basisAppMetadata, false, false, true},
		{"app_metadata without the flag is SignUp", with(login, func(c *candidate) { c.appMetadata = true }), userState{}, false, lookupResult{}, "SignUp", basisAppMetadata, false, true, true},
		{"the store beats a stale app_metadata", with(login, func(c *candidate) { c.appMetadata = true }), known, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"lookup says signed up", login, userState{}, false, lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"lookup says not signed up", login, userState{}, false, lookupResult{found: true}, "SignUp", basisLookup, false, true, true},
		{"logins count one is SignUp", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 1 }), userState{}, false, lookupResult{}, "SignUp", basisLoginsCount, false, true, true},
		{"logins count above one is Login", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 7 }), userState{}, false, lookupResult{}, "Login", basisLoginsCount, false, false, true},
		{"a signup record after a later login is the SignUp", signupRec, byCount, false, lookupResult{}, "SignUp", basisSignupType, false, true, true},
		{"a first login after a later login is the SignUp", firstLogin, byCount, false, lookupResult{}, "SignUp", basisLoginsCount, false, true, true},
		{"a login without count after a later login is Login", login, byCount, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"marked app_metadata settles a user known by count", with(login, func(c *candidate) { c.appMetadata, c.signedUp = true, true }), byCount, false, lookupResult{}, "Login", basisAppMetadata, false, false, true},
		{"a first login of a marked user is Login", firstLogin, known, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"a user known by count and looked up again as marked is known by Auth0's word", login, byCount, false, lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"a user known by count and looked up again as unmarked gets this login as their SignUp", login, byCount, false, lookupResult{found: true}, "SignUp", basisLookup, false, true, true},
		{"a user known by count and not found again stays known by count", login, byCount, false, lookupResult{}, "Login", basisStore, false, false, false},
		{"a first login beats a lookup of a user known by count that finds them unmarked", firstLogin, byCount, false, lookupResult{asked: true, found: true}, "SignUp", basisLoginsCount, false, true, true},
		{"so does a first login later in the batch", with(login, func(c *candidate) { c.firstInBatch, c.at = true, 5000 }), byCount, false, lookupResult{asked: true, found: true}, "Login", basisStore, false, false, true},
		{"a user known by count and looked up again as marked gets no SignUp from a late first login", firstLogin, byCount, false, lookupResult{asked: true, found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"nor from a late signup record", signupRec, byCount, false, lookupResult{asked: true, found: true, signedUp: true}, "", basisLookup, false, false, true},
		{"a user known by count looked up again without an answer is due again a wait later", with(login, func(c *candidate) { c.at = 5000 }), byCount, false, lookupResult{asked: true}, "Login", basisStore, false, false, true},
		{"a lookup changes nothing for a user whose SignUp is claimed", with(signupRec, func(c *candidate) { c.id = "r0" }), mine, false, lookupResult{found: true}, "", basisStore, false, false, false},
		{"a signup record of a user Auth0 has marked is no SignUp", signupRec, userState{}, false, lookupResult{found: true, signedUp: true}, "", basisLookup, false, false, true},
		{"a first login of a user Auth0 has marked is Login", firstLogin, userState{}, false, lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"an Action without the flag of a user Auth0 has marked is Login", with(login, func(c *candidate) { c.appMetadata = true }), userState{}, false, lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"a lookup beats the count", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 1 }), userState{}, false, lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"nothing known is Login, never an invented SignUp", login, userState{}, false, lookupResult{}, "Login", basisDefault, false, false, false},
		{"password exchange of an unknown user is Login", with(login, func(c *candidate) { c.kind = auth0event.KindPasswordExchange; c.hasCount, c.loginsCount = true, 1 }), userState{}, false, lookupResult{}, "Login", basisPasswordExchange, false, false, false},
		{"password exchange of a known user is Login", with(login, func(c *candidate) { c.kind = auth0event.KindPasswordExchange }), known, false, lookupResult{}, "Login", basisStore, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.c, tt.st, tt.own, tt.lookup)
			assert.Equal(t, tt.wantEvent, d.event)
			assert.Equal(t, tt.wantBasis, d.basis)
			assert.Equal(t, tt.drop, d.drop)
			assert.Equal(t, tt.claim, d.claim)
			assert.Equal(t, tt.learns, d.changed)
			if d.claim {
				assert.Equal(t, userState{SignedUp: true, Claimed: true, SignupRecord: tt.c.id, SignupLogin: tt.c.login, SignupByAction: tt.c.action}, d.next)
			}
			if d.changed {
				assert.True(t, d.next.SignedUp)
			}
			if tt.st.ByCount && tt.lookup.asked && !tt.lookup.found {
				assert.Equal(t, userState{SignedUp: true, ByCount: true, CountedAt: tt.c.at}, d.next)
			}
			if d.basis == basisLookup && !d.claim {
				assert.Equal(t, userState{SignedUp: true}, d.next, "known by Auth0's word, no longer by a count")
			}
		})
	}
}

func TestNeedsSignUpCheck(t *testing.T) {
	stale := func(c candidate) candidate { c.stale = true; return c }
	signupRec := candidate{user: "u", kind: auth0event.KindSignup}
	first := candidate{user: "u", kind: auth0event.KindLogin, hasCount: true, loginsCount: 1}
	later := candidate{user: "u", kind: auth0event.KindLogin, hasCount: true, loginsCount: 3}
	action := candidate{user: "u", kind: auth0event.KindLogin, appMetadata: true}
	marked := candidate{user: "u", kind: auth0event.KindLogin, appMetadata: true, signedUp: true}
	exchange := candidate{user: "u", kind: auth0event.KindPasswordExchange}
	for _, c := range []candidate{signupRec, first, action} {
		assert.True(t, stale(c).needsSignUpCheck(userState{}), "%+v", c)
		assert.False(t, c.needsSignUpCheck(userState{}), "a fresh record is not checked: %+v", c)
		assert.False(t, stale(c).needsSignUpCheck(userState{SignedUp: true}), "nor one of a user the store knows: %+v", c)
	}
	for _, c := range []candidate{later, marked, exchange} {
		assert.False(t, stale(c).needsSignUpCheck(userState{}), "would make no SignUp: %+v", c)
	}
}

func TestNeedsLookup(t *testing.T) {
	login := candidate{user: "u", kind: auth0event.KindLogin}
	assert.True(t, login.needsLookup(userState{}))
	assert.False(t, login.needsLookup(userState{SignedUp: true}), "known users are never looked up")
	assert.False(t, candidate{user: "u", kind: auth0event.KindSignup}.needsLookup(userState{}))
	assert.False(t, candidate{user: "u", kind: auth0event.KindLogin, appMetadata: true}.needsLookup(userState{}))
	assert.False(t, candidate{user: "u", kind: auth0event.KindPasswordExchange}.needsLookup(userState{}))
}

func TestNeedsRecheck(t *testing.T) {
	const after = time.Minute
	counted := userState{SignedUp: true, ByCount: true, CountedAt: 1_000_000}
	login := candidate{user: "u", kind: auth0event.KindLogin, hasCount: true, loginsCount: 4, at: counted.CountedAt + after.Milliseconds()}
	assert.True(t, login.needsRecheck(counted, after), "due once the wait is over")
	early := login
	early.at--
	assert.False(t, early.needsRecheck(counted, after), "not before: the user's first login may still come, out of order")
	assert.True(t, login.needsRecheck(userState{SignedUp: true, ByCount: true}, after), "a state stored without its time was counted long ago")
	for _, st := range []userState{{}, {SignedUp: true}, {SignedUp: true, ByCount: true, Claimed: true, CountedAt: 1}} {
		assert.False(t, login.needsRecheck(st, after), "only users known by a count alone: %+v", st)
	}
	for _, c := range []candidate{
		{user: "u", kind: auth0event.KindSignup, at: login.at},
		{user: "u", kind: auth0event.KindPasswordExchange, at: login.at},
		{user: "u", kind: auth0event.KindLogin, appMetadata: true, at: login.at},
	} {
		assert.False(t, c.needsRecheck(counted, after), "records that tell without a lookup: %+v", c)
	}
}

// A Login is registered with the shared store exactly when it was decided
// for want of an answer and another replica might decide the same record a
// SignUp.
func TestRegistersLogin(t *testing.T) {
	login := candidate{user: "u", id: "r2", kind: auth0event.KindLogin, hasCount: true, loginsCount: 4, login: "u#4"}
	noCount := candidate{user: "u", id: "r3", kind: auth0event.KindLogin}
	unmarkedAction := candidate{user: "u", id: "a1", kind: auth0event.KindLogin, action: true, appMetadata: true, login: "u#4"}
	markedAction := unmarkedAction
	markedAction.signedUp = true
	exchange := candidate{user: "u", id: "r4", kind: auth0event.KindPasswordExchange}
	withoutID := noCount
	withoutID.id = ""
	byCount := userState{SignedUp: true, ByCount: true}
	byWord := userState{SignedUp: true}
	claimedElsewhere := userState{SignedUp: true, Claimed: true, SignupRecord: "r1"}

	tests := []struct {
		name    string
		c       candidate
		st      userState
		lookup  lookupResult
		lookups bool
		want    bool
	}{
		{"a count taken while the lookup failed", login, userState{}, lookupResult{asked: true}, true, true},
		{"nothing known while the lookup failed", noCount, userState{}, lookupResult{asked: true}, true, true},
		{"a login of a user known by a count", login, byCount, lookupResult{}, true, true},
		{"known by a count, looked up again without an answer", login, byCount, lookupResult{asked: true}, true, true},
		{"without lookups no replica claims a login with a count", login, userState{}, lookupResult{}, false, false},
		{"an Action that says unmarked is claimed anywhere", unmarkedAction, byCount, lookupResult{}, false, true},
		{"an Action that says marked is a Login anywhere", markedAction, byCount, lookupResult{}, true, false},
		{"a lookup that found the user marked", login, userState{}, lookupResult{asked: true, found: true, signedUp: true}, true, false},
		{"a user known by Auth0's word", login, byWord, lookupResult{}, true, false},
		{"a claim known here decides it", login, claimedElsewhere, lookupResult{}, true, false},
		{"a password exchange is a Login anywhere", exchange, userState{}, lookupResult{}, true, false},
		{"a record without an id", withoutID, userState{}, lookupResult{asked: true}, true, false},
		{"a SignUp is a claim, not a Login", login, userState{}, lookupResult{asked: true, found: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.c, tt.st, false, tt.lookup)
			assert.Equal(t, tt.want, tt.c.registersLogin(tt.st, d, tt.lookups), "decided %s (%s)", d.event, d.basis)
		})
	}
}
