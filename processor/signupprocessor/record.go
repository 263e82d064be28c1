// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// recordFields are the attributes the processor reads of a record, taken in
// one pass over them: pcommon.Map.Get is a linear search, and a record has
// a few dozen attributes. Each is what auth0event.View would return: a
// key's first occurrence, "" (or no count) when it is not of the expected
// type.
type recordFields struct {
	typ, user, logID, eventID, protocol, source string
	loginsCount                                 int64
	hasCount                                    bool
	// The Rule's event object's fields besides the user (setRuleBody).
	clientName, clientAddress, userName string
}

// Bits of recordFields.seen, one per key read.
const (
	seenType = 1 << iota
	seenUser
	seenLogID
	seenEventID
	seenProtocol
	seenSource
	seenLoginsCount
	seenClientName
	seenClientAddress
	seenUserName
)

func readFields(attrs pcommon.Map) recordFields {
	var f recordFields
	var seen int
	str := func(bit int, dst *string, v pcommon.Value) {
		if seen&bit != 0 {
			return
		}
		seen |= bit
		if v.Type() == pcommon.ValueTypeStr {
			*dst = v.Str()
		}
	}
	attrs.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case auth0event.AttrType:
			str(seenType, &f.typ, v)
		case auth0event.AttrUserID:
			str(seenUser, &f.user, v)
		case auth0event.AttrLogID:
			str(seenLogID, &f.logID, v)
		case auth0event.AttrEventID:
			str(seenEventID, &f.eventID, v)
		case auth0event.AttrProtocol:
			str(seenProtocol, &f.protocol, v)
		case auth0event.AttrSource:
			str(seenSource, &f.source, v)
		case auth0event.AttrClientName:
			str(seenClientName, &f.clientName, v)
		case auth0event.AttrClientAddress:
			str(seenClientAddress, &f.clientAddress, v)
		case auth0event.AttrUserName:
			str(seenUserName, &f.userName, v)
		case auth0event.AttrLoginsCount:
			if seen&seenLoginsCount == 0 {
				seen |= seenLoginsCount
				if v.Type() == pcommon.ValueTypeInt {
					f.loginsCount, f.hasCount = v.Int(), true
				}
			}
		}
		return true
	})
	return f
}

// rule is what the Rule's event object repeats of the record.
func (f recordFields) rule() ruleFields {
	return ruleFields{application: f.clientName, clientIP: f.clientAddress, protocol: f.protocol, userName: f.userName, userID: f.user}
}

// id is the record's unique id: the log id, or the Action's event id
// (auth0event.View.ID).
func (f recordFields) id() string {
	if f.logID != "" {
		return f.logID
	}
	return f.eventID
}

// appMetadata returns the user's app_metadata an Action payload's body
// carries (auth0event.View.AppMetadata, for a record known to come from an
// Action).
func appMetadata(body pcommon.Value) (pcommon.Map, bool) {
	if body.Type() != pcommon.ValueTypeMap {
		return pcommon.Map{}, false
	}
	user, ok := mapField(body.Map(), "user")
	if !ok {
		return pcommon.Map{}, false
	}
	return mapField(user, "app_metadata")
}

func mapField(m pcommon.Map, key string) (pcommon.Map, bool) {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeMap {
		return v.Map(), true
	}
	return pcommon.Map{}, false
}
