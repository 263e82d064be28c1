// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// Bases of a decision, as recorded in auth0.event_basis and the metrics.
const (
	basisSignupType       = "signup_type"
	basisAppMetadata      = "app_metadata"
	basisStore            = "store"
	basisLookup           = "lookup"
	basisLoginsCount      = "logins_count"
	basisPasswordExchange = "password_exchange"
	basisDefault          = "default"
	basisOtherReplica     = "other_replica"
	basisNone             = "none"
)

// candidate is a record that may be a SignUp or a Login, with what the
// record itself says about its user.
type candidate struct {
	user string
	id   string
	kind auth0event.Kind
	// login names the login the record is about, when the record carries
	// the user's logins count: the log stream's record and the Action's
	// payload of one login share it, though their ids differ. action says
	// which of the two sources the record came from.
	login  string
	action bool
	// appMetadata: the record carried the user's app_metadata (Action
	// payloads do); signedUp is its flag.
	appMetadata bool
	signedUp    bool
	loginsCount int64
	hasCount    bool
	// at is when the batch is decided, in unix milliseconds.
	at int64
	// firstInBatch: the batch holds the user's signup record or first
	// login (logins count one), which is their SignUp if one of their
	// records is: a later login is not, whatever a lookup says.
	firstInBatch bool
	// stale: the record was taken in by a collector longer ago than
	// lookups.check_signups_older_than: it waited (in a queue, or through
	// its sender's retries), so another collector may have counted the
	// user meanwhile.
	stale bool
}

// readCandidate reports whether a record can be a SignUp or Login: a
// successful login, signup or password exchange of a known user that is not
// a refresh-token exchange (which re-runs post-login logic without being a
// login: the Rule counted those, users reported the bogus events).
func readCandidate(f recordFields, body pcommon.Value, signedUpKey string) (candidate, bool) {
	if f.typ == "" {
		return candidate{}, false
	}
	ti, ok := auth0event.LookupType(f.typ)
	if !ok {
		return candidate{}, false
	}
	switch ti.Kind {
	case auth0event.KindLogin, auth0event.KindSignup, auth0event.KindPasswordExchange:
	default:
		return candidate{}, false
	}
	c := candidate{user: f.user, id: f.id(), kind: ti.Kind}
	if c.user == "" || f.protocol == auth0event.ProtocolRefreshToken {
		return candidate{}, false
	}
	c.action = auth0event.Source(f.source) == auth0event.SourceAction
	if c.action {
		if md, ok := appMetadata(body); ok {
			c.appMetadata = true
			if v, ok := md.Get(signedUpKey); ok && v.Type() == pcommon.ValueTypeBool {
				c.signedUp = v.Bool()
			}
		}
	}
	c.loginsCount, c.hasCount = f.loginsCount, f.hasCount
	if c.hasCount && c.kind == auth0event.KindLogin {
		c.login = c.user + "#" + strconv.FormatInt(c.loginsCount, 10)
	}
	return c, true
}

// copyOf reports whether the record is the one claimed as the user's
// SignUp: the same record delivered again, or the same login seen through
// the other source (an Action payload and a log record). Within one source
// records are told apart by their ids alone: two of a source's records with
// one logins count are two records.
func (c candidate) copyOf(st userState) bool {
	if c.id != "" && c.id == st.SignupRecord {
		return true
	}
	return c.login != "" && c.login == st.SignupLogin && c.action != st.SignupByAction
}

// mayHoldClaim reports whether the record can be a user's SignUp on some
// replica, so that its user's claim, if another replica holds it, decides
// it: only a record that is a Login everywhere (a password exchange, or
// app_metadata marked) cannot. A login whose count is above one can: a
// lookup that finds the user unmarked makes it the SignUp, as the Rule did.
func (c candidate) mayHoldClaim() bool {
	return c.kind != auth0event.KindPasswordExchange && !(c.appMetadata && c.signedUp)
}

// needsSharedClaim reports whether the record's user's claim must be read
// from the replicas' shared store before it is decided: the record may be
// the SignUp another replica claimed, and here it would not claim (the
// user is signed up by Auth0's word, or only a lookup can tell) — the
// claim's holder delivered again would become a Login. A record that
// claims here learns the holder when it settles its claim.
func (c candidate) needsSharedClaim(st userState) bool {
	if !c.mayHoldClaim() || st.Claimed || st.NoSharedClaim {
		return false
	}
	return st.SignedUp || c.needsLookup(st) || c.needsSignUpCheck(st)
}

// needsLookup reports whether only the Management API can tell: a login
// of a user the store does not know as signed up, about whom the record
// says nothing.
func (c candidate) needsLookup(st userState) bool {
	return c.kind == auth0event.KindLogin && !c.appMetadata && !st.SignedUp
}

// needsRecheck reports whether a login of a user known only by a logins
// count is due to look them up again (their lookup was skipped, failed or
// found no one): after has passed since the count was taken or they were
// last looked up. Until then their signup or first login, out of order,
// may still come and be their SignUp.
func (c candidate) needsRecheck(st userState, after time.Duration) bool {
	return c.kind == auth0event.KindLogin && !c.appMetadata && st.ByCount && !st.Claimed &&
		c.at-st.CountedAt >= after.Milliseconds()
}

// registersLogin reports whether the record, decided d from the user's
// state before, is registered as a Login with the replicas' shared store
// before it leaves (settleRequest): it is a Login here for want of an
// answer (a lookup failed or skipped, a logins count, nothing known) while
// another replica may make it the SignUp, because its lookup finds the
// user unmarked (lookups says replicas look users up) or the Action's
// payload says so. A Login by Auth0's word needs none: every replica
// hears the same. Nor does a record decided against a claim the replica
// knows of: any replica's claim loses to that one.
func (c candidate) registersLogin(before userState, d decision, lookups bool) bool {
	if c.id == "" || d.claim || d.drop || d.next.Claimed || !c.mayHoldClaim() {
		return false
	}
	claimable := (c.appMetadata && !c.signedUp) || (lookups && c.kind == auth0event.KindLogin && !c.appMetadata)
	if !claimable {
		return false
	}
	switch d.basis {
	case basisDefault, basisLoginsCount:
		return true
	case basisStore:
		return before.ByCount
	default:
		return false
	}
}

// needsSignUpCheck reports whether a stale record that would make a SignUp
// of a user the store does not know is checked with Auth0 first: another
// collector may have emitted the SignUp and marked the user meanwhile.
func (c candidate) needsSignUpCheck(st userState) bool {
	if !c.stale || st.SignedUp {
		return false
	}
	switch {
	case c.kind == auth0event.KindSignup:
		return true
	case c.kind != auth0event.KindLogin:
		return false
	case c.appMetadata:
		return !c.signedUp
	default:
		return !c.hasCount || c.loginsCount == 1
	}
}

// lookupResult is what a lookup said; found is false when none was made,
// it failed, or the user does not exist. asked: one was tried.
type lookupResult struct {
	asked    bool
	found    bool
	signedUp bool
}

// decision is what becomes of one candidate.
type decision struct {
	event string // auth0event.EventSignUp, EventLogin, or "" (untagged)
	basis string
	// drop: a copy of the record claimed as the SignUp (decide's copyOf).
	drop bool
	// claim: this record is the user's SignUp. redelivery: it is so as
	// the record already holding the user's claim, delivered again.
	claim      bool
	redelivery bool
	// next is the user's state after this record; changed says whether it
	// differs from the state decide was given.
	next    userState
	changed bool
}

// decide applies the rules, cheapest evidence first, to one candidate
// given the user's current state. Any source saying "signed up" wins over
// one saying "not yet": the store and lookups may be fresher than the
// app_metadata an Action captured before this collector's update landed.
// ownClaim says the user's SignUp claim in st was made by the batch being
// decided (it is in flight with this very batch).
//
// The rule, the same for the local store and the shared one: a record is
// the user's SignUp if and only if it holds the user's claim, or it is the
// same record as the one that does (copyOf). A claim whose outcome is
// unknown (its process stopped before the pipeline answered) therefore
// makes a SignUp only of that record, which its sender delivers again
// because it was never answered; every other record of the user is a
// Login.
func decide(c candidate, st userState, ownClaim bool, lookup lookupResult) decision {
	if st.SignedUp {
		switch {
		case c.copyOf(st) && (ownClaim || st.Confirmed):
			// The same record again within the batch that claims it, or a
			// copy of a SignUp the pipeline accepted: delivered already.
			return decision{drop: true, basis: basisStore, next: st}
		case c.copyOf(st):
			// The record that holds the claim, delivered again because its
			// sender never learned the outcome (a refusal, a crash, a copy
			// sent to another replica): it is the SignUp again, the same
			// decision, not a second one.
			d := signup(basisStore, c)
			d.next = st
			d.next.Claimed = true
			d.redelivery = true
			return d
		case st.ByCount && !st.Claimed && lookup.found && lookup.signedUp:
			// Looked up again (needsRecheck): marked in Auth0, so no
			// record of theirs is a SignUp, a late signup or first login
			// neither.
			d := decision{event: auth0event.EventLogin, basis: basisLookup, next: userState{SignedUp: true}, changed: true}
			if c.kind == auth0event.KindSignup {
				d.event = ""
			}
			return d
		case st.ByCount && !st.Claimed && c.kind == auth0event.KindSignup:
			// Known only from a later login that arrived first (records
			// out of order): this is the user's signup.
			return signup(basisSignupType, c)
		case st.ByCount && !st.Claimed && c.hasCount && c.loginsCount == 1:
			return signup(basisLoginsCount, c)
		case st.ByCount && c.appMetadata && c.signedUp:
			// Marked in Auth0: signed up before this collector saw them.
			return decision{event: auth0event.EventLogin, basis: basisAppMetadata, next: userState{SignedUp: true}, changed: true}
		case st.ByCount && !st.Claimed && lookup.found && c.kind == auth0event.KindLogin && !c.firstInBatch:
			// Looked up again and not marked: the user signed up before
			// any SignUp was recorded for them, and this login is their
			// SignUp, as a collector that had looked them up at first
			// would have decided (and the Rule did).
			return signup(basisLookup, c)
		case st.ByCount && !st.Claimed && lookup.asked:
			// Looked up again without an answer (skipped for the read
			// budget, failed, or no one found): due again a wait later.
			next := st
			next.CountedAt = c.at
			return decision{event: auth0event.EventLogin, basis: basisStore, next: next, changed: next != st}
		case c.kind == auth0event.KindSignup:
			// A signup record after the SignUp was emitted (records out of
			// order): there is only one SignUp per user.
			return decision{basis: basisStore, next: st}
		default:
			return decision{event: auth0event.EventLogin, basis: basisStore, next: st}
		}
	}

	known := userState{SignedUp: true}
	switch {
	case c.appMetadata && c.signedUp:
		return decision{event: auth0event.EventLogin, basis: basisAppMetadata, next: known, changed: true}
	case c.kind == auth0event.KindPasswordExchange:
		return decision{event: auth0event.EventLogin, basis: basisPasswordExchange, next: st}
	case lookup.found && lookup.signedUp && c.kind == auth0event.KindSignup:
		// Counted and marked already (by another collector): a signup
		// record is then no SignUp.
		return decision{basis: basisLookup, next: known, changed: true}
	case lookup.found && lookup.signedUp:
		return decision{event: auth0event.EventLogin, basis: basisLookup, next: known, changed: true}
	case c.kind == auth0event.KindSignup:
		return signup(basisSignupType, c)
	case c.appMetadata:
		return signup(basisAppMetadata, c)
	case lookup.found:
		return signup(basisLookup, c)
	case c.hasCount && c.loginsCount == 1:
		return signup(basisLoginsCount, c)
	case c.hasCount && c.loginsCount > 1:
		return decision{event: auth0event.EventLogin, basis: basisLoginsCount, next: userState{SignedUp: true, ByCount: true, CountedAt: c.at}, changed: true}
	default:
		// Nothing is known: never invent a SignUp.
		return decision{event: auth0event.EventLogin, basis: basisDefault, next: st}
	}
}

func signup(basis string, c candidate) decision {
	return decision{
		event:   auth0event.EventSignUp,
		basis:   basis,
		claim:   true,
		next:    userState{SignedUp: true, Claimed: true, SignupRecord: c.id, SignupLogin: c.login, SignupByAction: c.action},
		changed: true,
	}
}
