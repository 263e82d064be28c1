package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
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
	basisNone             = "none"
)

// candidate is a record that may be a SignUp or a Login, with what the
// record itself says about its user.
type candidate struct {
	user string
	id   string
	kind auth0event.Kind
	// appMetadata: the record carried the user's app_metadata (Action
	// payloads do); signedUp is its flag.
	appMetadata bool
	signedUp    bool
	loginsCount int64
	hasCount    bool
}

// readCandidate reports whether a record can be a SignUp or Login: a
// successful login, signup or password exchange of a known user that is not
// a refresh-token exchange (which re-runs post-login logic without being a
// login: the Rule counted those, users reported the bogus events).
func readCandidate(view auth0event.View, signedUpKey string) (candidate, bool) {
	ti, ok := view.Type()
	if !ok {
		return candidate{}, false
	}
	switch ti.Kind {
	case auth0event.KindLogin, auth0event.KindSignup, auth0event.KindPasswordExchange:
	default:
		return candidate{}, false
	}
	c := candidate{user: view.Str(auth0event.AttrUserID), id: view.ID(), kind: ti.Kind}
	if c.user == "" || view.Str(auth0event.AttrProtocol) == auth0event.ProtocolRefreshToken {
		return candidate{}, false
	}
	if md, ok := view.AppMetadata(); ok {
		c.appMetadata = true
		if v, ok := md.Get(signedUpKey); ok && v.Type() == pcommon.ValueTypeBool {
			c.signedUp = v.Bool()
		}
	}
	c.loginsCount, c.hasCount = view.LoginsCount()
	return c, true
}

// needsLookup reports whether only the Management API can tell: a login
// of a user the store does not know as signed up, about whom the record
// says nothing.
func (c candidate) needsLookup(st userState) bool {
	return c.kind == auth0event.KindLogin && !c.appMetadata && !st.SignedUp
}

// lookupResult is what a lookup said; found is false when none was made,
// it failed, or the user does not exist.
type lookupResult struct {
	found    bool
	signedUp bool
}

// decision is what becomes of one candidate.
type decision struct {
	event string // auth0event.EventSignUp, EventLogin, or "" (untagged)
	basis string
	// drop: a redelivery of the record already emitted as the SignUp.
	drop bool
	// claim: this record is the user's SignUp.
	claim bool
	// next is the user's state after this record; changed says whether it
	// differs from the state decide was given.
	next    userState
	changed bool
}

// decide applies the rules, cheapest evidence first, to one candidate
// given the user's current state. Any source saying "signed up" wins over
// one saying "not yet": the store and lookups may be fresher than the
// app_metadata an Action captured before this collector's update landed.
// inflight is the record id of a SignUp of this user being delivered by
// this process right now.
func decide(c candidate, st userState, inflight string, lookup lookupResult) decision {
	if st.SignedUp {
		switch {
		case c.id != "" && c.id == st.SignupRecord && (st.Confirmed || inflight == c.id):
			return decision{drop: true, basis: basisStore, next: st}
		case c.id != "" && c.id == st.SignupRecord:
			// Claimed before a restart, never confirmed: it may not have
			// reached Splunk, and Auth0 delivers it again. Emit it again.
			return signup(basisStore, c.id)
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
	case c.kind == auth0event.KindSignup:
		return signup(basisSignupType, c.id)
	case c.appMetadata:
		return signup(basisAppMetadata, c.id)
	case lookup.found && lookup.signedUp:
		return decision{event: auth0event.EventLogin, basis: basisLookup, next: known, changed: true}
	case lookup.found:
		return signup(basisLookup, c.id)
	case c.hasCount && c.loginsCount == 1:
		return signup(basisLoginsCount, c.id)
	case c.hasCount && c.loginsCount > 1:
		return decision{event: auth0event.EventLogin, basis: basisLoginsCount, next: known, changed: true}
	default:
		// Nothing is known: never invent a SignUp.
		return decision{event: auth0event.EventLogin, basis: basisDefault, next: st}
	}
}

func signup(basis, recordID string) decision {
	return decision{
		event:   auth0event.EventSignUp,
		basis:   basis,
		claim:   true,
		next:    userState{SignedUp: true, SignupRecord: recordID},
		changed: true,
	}
}
