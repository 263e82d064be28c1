// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import "go.opentelemetry.io/collector/pdata/pcommon"

// Attribute names set on every record. Semantic-convention names where one
// exists, auth0.* for the rest. They are the contract between the receiver,
// the signup processor, user-written OTTL and Splunk searches: renaming one
// is a breaking change.
const (
	AttrUserID        = "user.id"
	AttrUserName      = "user.name"
	AttrUserEmail     = "user.email"
	AttrClientAddress = "client.address"
	AttrUserAgent     = "user_agent.original"

	AttrSource           = "auth0.source"
	AttrLogID            = "auth0.log_id"
	AttrEventID          = "auth0.event_id"
	AttrType             = "auth0.type"
	AttrTypeName         = "auth0.type_name"
	AttrCategory         = "auth0.category"
	AttrClientID         = "auth0.client_id"
	AttrClientName       = "auth0.client_name"
	AttrConnection       = "auth0.connection"
	AttrConnectionID     = "auth0.connection_id"
	AttrStrategy         = "auth0.strategy"
	AttrStrategyType     = "auth0.strategy_type"
	AttrProtocol         = "auth0.protocol"
	AttrLoginsCount      = "auth0.logins_count"
	AttrTenant           = "auth0.tenant"
	AttrHostname         = "auth0.hostname"
	AttrOrganizationID   = "auth0.organization_id"
	AttrOrganizationName = "auth0.organization_name"

	// Auth0 Adaptive MFA's risk assessment of a login (details.riskAssessment):
	// its overall confidence and that of each assessment, "low", "medium",
	// "high" or "neutral". Only in records of tenants with Adaptive MFA.
	AttrRiskConfidence       = "auth0.risk.confidence"
	AttrRiskImpossibleTravel = "auth0.risk.impossible_travel"
	AttrRiskNewDevice        = "auth0.risk.new_device"
	AttrRiskUntrustedIP      = "auth0.risk.untrusted_ip"

	// Set by the signup processor: the decision (by default in AttrEvent)
	// and what it rested on.
	AttrEvent      = "auth0.event"
	AttrEventBasis = "auth0.event_basis"
	EventSignUp    = "SignUp"
	EventLogin     = "Login"
)

// attrCapacity is room for every attribute the receiver may set (25) and
// those the signup processor adds (5): growing a record's attribute slice
// midway copies all of it.
const attrCapacity = 30

// Source says which way an event reached the collector.
type Source string

const (
	// SourceLogStream is an Auth0 log stream (custom webhook) record.
	SourceLogStream Source = "log_stream"
	// SourceAction is a payload posted by the otelcol-auth0 post-login Action.
	SourceAction Source = "action"
	// SourceLogAPI is a record read from the Management API's /api/v2/logs.
	SourceLogAPI Source = "log_api"
)

// ProtocolRefreshToken is the transaction protocol of a refresh-token
// exchange, which re-runs post-login logic without being a login.
const ProtocolRefreshToken = "oauth2-refresh-token" //nolint:gosec // a protocol name, not a credential

// View reads back what the receiver mapped onto a record. Consumers (the
// signup processor) use it instead of knowing attribute names or body shapes.
type View struct {
	attrs pcommon.Map
	body  pcommon.Value
}

// NewView wraps a record's attributes and body.
func NewView(attrs pcommon.Map, body pcommon.Value) View {
	return View{attrs: attrs, body: body}
}

// Str returns a string attribute, or "" when absent or not a string.
func (v View) Str(key string) string {
	if a, ok := v.attrs.Get(key); ok && a.Type() == pcommon.ValueTypeStr {
		return a.Str()
	}
	return ""
}

// Source is the record's auth0.source.
func (v View) Source() Source { return Source(v.Str(AttrSource)) }

// ID is the record's unique id: the log id, or the Action's event id.
func (v View) ID() string {
	if id := v.Str(AttrLogID); id != "" {
		return id
	}
	return v.Str(AttrEventID)
}

// Type is the Auth0 event type code and what is known of it.
func (v View) Type() (TypeInfo, bool) {
	code := v.Str(AttrType)
	if code == "" {
		return TypeInfo{}, false
	}
	if ti, ok := LookupType(code); ok {
		return ti, true
	}
	return TypeInfo{Code: code, Kind: KindUnknown}, true
}

// LoginsCount returns auth0.logins_count when the record carried it.
func (v View) LoginsCount() (int64, bool) {
	if a, ok := v.attrs.Get(AttrLoginsCount); ok && a.Type() == pcommon.ValueTypeInt {
		return a.Int(), true
	}
	return 0, false
}

// AppMetadata returns the user's app_metadata when the record carried it.
// Only Action payloads do; log events never include it.
func (v View) AppMetadata() (pcommon.Map, bool) {
	if v.Source() != SourceAction || v.body.Type() != pcommon.ValueTypeMap {
		return pcommon.Map{}, false
	}
	user, ok := getMap(v.body.Map(), "user")
	if !ok {
		return pcommon.Map{}, false
	}
	return getMap(user, "app_metadata")
}

func getMap(m pcommon.Map, key string) (pcommon.Map, bool) {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeMap {
		return v.Map(), true
	}
	return pcommon.Map{}, false
}

func getStr(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

// getInt accepts an integral number in either pdata number type, because a
// JSON producer may write 3 or 3.0.
func getInt(m pcommon.Map, key string) (int64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if f == float64(int64(f)) {
			return int64(f), true
		}
	}
	return 0, false
}

// putStr sets a string attribute only when there is a value: missing fields
// stay absent instead of becoming empty strings.
func putStr(attrs pcommon.Map, key, value string) {
	if value != "" {
		attrs.PutStr(key, value)
	}
}
