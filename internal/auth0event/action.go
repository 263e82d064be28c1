// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// ActionSchemaVersion is the version of the payload the post-login Action
// posts and the receiver understands (docs/action-payload.md). Fields may be
// added within a version; removing or changing one needs a new version.
const ActionSchemaVersion = 1

// ActionError lists everything wrong with an Action payload.
type ActionError struct {
	Problems []string
}

func (e *ActionError) Error() string {
	return "invalid Action payload: " + strings.Join(e.Problems, "; ")
}

// ParseAction parses and validates one Action payload. Only what identifies
// the event is required (schema_version, event_id, user.user_id); every
// other field is optional and kept as sent.
func ParseAction(body []byte, limits Limits) (pcommon.Map, Header, error) {
	payload := pcommon.NewMap()
	if limits.MaxRecordBytes > 0 && len(body) > limits.MaxRecordBytes {
		return payload, Header{}, &ActionError{Problems: []string{fmt.Sprintf("payload is %d bytes, more than max_record_size (%d)", len(body), limits.MaxRecordBytes)}}
	}
	p := newJSONReader(body, limits.JSON)
	defer p.release()
	if !p.SkipSpace() {
		return payload, Header{}, &ActionError{Problems: []string{"request body is empty: expected one JSON object"}}
	}
	if err := p.ParseObject(payload); err != nil {
		var se *SyntaxError
		var le *LimitError
		switch {
		case errors.As(err, &se):
			return payload, Header{}, &ActionError{Problems: []string{fmt.Sprintf("invalid JSON at byte offset %d: %s", se.Offset, se.Msg)}}
		case errors.As(err, &le):
			return payload, Header{}, &ActionError{Problems: []string{"payload is beyond the receiver's limits: " + le.Error()}}
		}
		return payload, Header{}, &ActionError{Problems: []string{err.Error()}}
	}
	if p.SkipSpace() {
		return payload, Header{}, &ActionError{Problems: []string{fmt.Sprintf("unexpected data after the JSON object at byte offset %d: send one event per request", p.Pos())}}
	}

	var problems []string
	switch v, ok := payload.Get("schema_version"); {
	case !ok:
		problems = append(problems, `"schema_version" is missing`)
	case v.Type() != pcommon.ValueTypeInt && v.Type() != pcommon.ValueTypeDouble:
		problems = append(problems, `"schema_version" must be a number, got a `+jsonTypeName(v.Type()))
	default:
		if n, _ := getInt(payload, "schema_version"); n != ActionSchemaVersion {
			problems = append(problems, fmt.Sprintf(`unsupported "schema_version" %s: this receiver understands %d`, v.AsString(), ActionSchemaVersion))
		}
	}
	id := getStr(payload, "event_id")
	if id == "" {
		problems = append(problems, `"event_id" must be a non-empty string`)
	}
	user, ok := getMap(payload, "user")
	if !ok {
		problems = append(problems, `"user" must be an object`)
	} else if getStr(user, "user_id") == "" {
		problems = append(problems, `"user.user_id" must be a non-empty string`)
	}
	if problems != nil {
		return payload, Header{}, &ActionError{Problems: problems}
	}
	return payload, Header{ID: id, Type: actionType(payload)}, nil
}

// actionType names the Auth0 log type of the transaction the Action ran in,
// so that Action records and log stream records classify alike: post-login
// also runs for refresh-token and password exchanges, which are not logins.
func actionType(payload pcommon.Map) string {
	protocol := ""
	if tx, ok := getMap(payload, "transaction"); ok {
		protocol = getStr(tx, "protocol")
	}
	switch protocol {
	case ProtocolRefreshToken:
		return "sertft"
	case "oauth2-password", "oauth2-resource-owner", "oauth2-resource-owner-jwt-bearer":
		return "sepft"
	default:
		return "s"
	}
}

// MapAction turns a validated Action payload into lr. The body is the
// payload as posted, which carries user.app_metadata for the processor.
func MapAction(payload pcommon.Map, h Header, observed pcommon.Timestamp, lr plog.LogRecord) {
	body := lr.Body().SetEmptyMap()
	payload.MoveTo(body)

	lr.SetObservedTimestamp(observed)
	if ts, ok := parseTime(getStr(body, "timestamp")); ok {
		lr.SetTimestamp(ts)
	}

	attrs := lr.Attributes()
	attrs.EnsureCapacity(attrCapacity)
	attrs.PutStr(AttrSource, string(SourceAction))
	attrs.PutStr(AttrEventID, h.ID)
	setType(lr, h.Type)

	if user, ok := getMap(body, "user"); ok {
		putStr(attrs, AttrUserID, getStr(user, "user_id"))
		putStr(attrs, AttrUserName, getStr(user, "name"))
		putStr(attrs, AttrUserEmail, getStr(user, "email"))
	}
	if req, ok := getMap(body, "request"); ok {
		putStr(attrs, AttrClientAddress, getStr(req, "ip"))
		putStr(attrs, AttrUserAgent, getStr(req, "user_agent"))
		putStr(attrs, AttrHostname, getStr(req, "hostname"))
	}
	if client, ok := getMap(body, "client"); ok {
		putStr(attrs, AttrClientID, getStr(client, "client_id"))
		putStr(attrs, AttrClientName, getStr(client, "name"))
	}
	if conn, ok := getMap(body, "connection"); ok {
		putStr(attrs, AttrConnection, getStr(conn, "name"))
		putStr(attrs, AttrConnectionID, getStr(conn, "id"))
		putStr(attrs, AttrStrategy, getStr(conn, "strategy"))
	}
	if tx, ok := getMap(body, "transaction"); ok {
		putStr(attrs, AttrProtocol, getStr(tx, "protocol"))
	}
	if stats, ok := getMap(body, "stats"); ok {
		if n, ok := getInt(stats, "logins_count"); ok {
			attrs.PutInt(AttrLoginsCount, n)
		}
	}
	if tenant, ok := getMap(body, "tenant"); ok {
		putStr(attrs, AttrTenant, getStr(tenant, "id"))
	}
	if org, ok := getMap(body, "organization"); ok {
		putStr(attrs, AttrOrganizationID, getStr(org, "id"))
		putStr(attrs, AttrOrganizationName, getStr(org, "name"))
	}
}
