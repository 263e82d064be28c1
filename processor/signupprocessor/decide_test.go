package signupprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

func TestDecide(t *testing.T) {
	login := candidate{user: "u", id: "r2", kind: auth0event.KindLogin}
	signupRec := candidate{user: "u", id: "r1", kind: auth0event.KindSignup}
	mine := userState{SignedUp: true, SignupRecord: "r1", Confirmed: true}
	known := userState{SignedUp: true}
	with := func(c candidate, f func(*candidate)) candidate { f(&c); return c }

	tests := []struct {
		name      string
		c         candidate
		st        userState
		inflight  string
		lookup    lookupResult
		wantEvent string
		wantBasis string
		drop      bool
		claim     bool
		learns    bool
	}{
		{"signup type is SignUp", signupRec, userState{}, "", lookupResult{}, "SignUp", basisSignupType, false, true, true},
		{"first login after the signup is Login", login, mine, "", lookupResult{}, "Login", basisStore, false, false, false},
		{"redelivered SignUp record is dropped", with(login, func(c *candidate) { c.id = "r1" }), mine, "", lookupResult{}, "", basisStore, true, false, false},
		{"duplicate of an in-flight SignUp is dropped", with(login, func(c *candidate) { c.id = "r1" }), userState{SignedUp: true, SignupRecord: "r1"}, "r1", lookupResult{}, "", basisStore, true, false, false},
		{"unconfirmed claim from before a restart is emitted again", with(login, func(c *candidate) { c.id = "r1" }), userState{SignedUp: true, SignupRecord: "r1"}, "", lookupResult{}, "SignUp", basisStore, false, true, true},
		{"late signup record after the SignUp is untagged", with(signupRec, func(c *candidate) { c.id = "r0" }), mine, "", lookupResult{}, "", basisStore, false, false, false},
		{"app_metadata says signed up", with(login, func(c *candidate) { c.appMetadata, c.signedUp = true, true }), userState{}, "", lookupResult{}, "Login", basisAppMetadata, false, false, true},
		{"app_metadata without the flag is SignUp", with(login, func(c *candidate) { c.appMetadata = true }), userState{}, "", lookupResult{}, "SignUp", basisAppMetadata, false, true, true},
		{"the store beats a stale app_metadata", with(login, func(c *candidate) { c.appMetadata = true }), known, "", lookupResult{}, "Login", basisStore, false, false, false},
		{"lookup says signed up", login, userState{}, "", lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"lookup says not signed up", login, userState{}, "", lookupResult{found: true}, "SignUp", basisLookup, false, true, true},
		{"logins count one is SignUp", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 1 }), userState{}, "", lookupResult{}, "SignUp", basisLoginsCount, false, true, true},
		{"logins count above one is Login", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 7 }), userState{}, "", lookupResult{}, "Login", basisLoginsCount, false, false, true},
		{"a lookup beats the count", with(login, func(c *candidate) { c.hasCount, c.loginsCount = true, 1 }), userState{}, "", lookupResult{found: true, signedUp: true}, "Login", basisLookup, false, false, true},
		{"nothing known is Login, never an invented SignUp", login, userState{}, "", lookupResult{}, "Login", basisDefault, false, false, false},
		{"password exchange of an unknown user is Login", with(login, func(c *candidate) { c.kind = auth0event.KindPasswordExchange; c.hasCount, c.loginsCount = true, 1 }), userState{}, "", lookupResult{}, "Login", basisPasswordExchange, false, false, false},
		{"password exchange of a known user is Login", with(login, func(c *candidate) { c.kind = auth0event.KindPasswordExchange }), known, "", lookupResult{}, "Login", basisStore, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(tt.c, tt.st, tt.inflight, tt.lookup)
			assert.Equal(t, tt.wantEvent, d.event)
			assert.Equal(t, tt.wantBasis, d.basis)
			assert.Equal(t, tt.drop, d.drop)
			assert.Equal(t, tt.claim, d.claim)
			assert.Equal(t, tt.learns, d.changed)
			if d.claim {
				assert.Equal(t, userState{SignedUp: true, SignupRecord: tt.c.id}, d.next)
			}
			if d.changed {
				assert.True(t, d.next.SignedUp)
			}
		})
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
