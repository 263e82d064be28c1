// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Header is what a receiver needs to know of a record before deciding to
// keep it: its unique id (for deduplication) and type code (for filtering).
type Header struct {
	ID   string
	Type string
}

// LogEventHeader reads the id and type of a log stream or log API record,
// in either of its shapes: the stream's {"log_id", "data": {event}} or the
// bare event that GET /api/v2/logs returns. WalkLogStream has already
// refused a "data" that is not an object.
func LogEventHeader(rec pcommon.Map) Header {
	event := rec
	id := getStr(rec, "log_id")
	if data, ok := getMap(rec, "data"); ok {
		event = data
		if id == "" {
			id = getStr(data, "log_id")
		}
	} else if id == "" {
		id = getStr(rec, "_id") // the log API's older id field
	}
	return Header{ID: id, Type: getStr(event, "type")}
}

// MapLogEvent turns one Auth0 log record into lr. The body becomes the
// record in its stream shape, {"log_id", "data": {event}}, whatever shape it
// arrived in, so that Splunk searches and the Auth0 App for Splunk
// dashboards (which read data.*) see one shape from every source. Nothing
// of the event is dropped: attributes are copies. rec is consumed.
func MapLogEvent(rec pcommon.Map, h Header, src Source, observed pcommon.Timestamp, lr plog.LogRecord) {
	body := lr.Body().SetEmptyMap()
	if _, wrapped := rec.Get("data"); wrapped {
		rec.MoveTo(body)
	} else {
		if h.ID != "" {
			body.PutStr("log_id", h.ID)
		}
		rec.MoveTo(body.PutEmptyMap("data"))
	}
	event, _ := getMap(body, "data")

	lr.SetObservedTimestamp(observed)
	attrs := lr.Attributes()
	attrs.EnsureCapacity(attrCapacity)
	attrs.PutStr(AttrSource, string(src))
	putStr(attrs, AttrLogID, h.ID)
	setType(lr, h.Type)
	// One pass over the event's fields, each known one copied to its
	// attribute, instead of a linear pcommon.Map lookup per attribute.
	for key, v := range event.All() {
		if attr, ok := logEventAttr(key); ok {
			if v.Type() == pcommon.ValueTypeStr {
				putStr(attrs, attr, v.Str())
			}
			continue
		}
		switch key {
		case "date":
			if v.Type() == pcommon.ValueTypeStr {
				if ts, ok := parseTime(v.Str()); ok {
					lr.SetTimestamp(ts)
				}
			}
		case "details":
			if v.Type() != pcommon.ValueTypeMap {
				continue
			}
			details := v.Map()
			if stats, ok := getMap(details, "stats"); ok {
				if n, ok := getInt(stats, "loginsCount"); ok {
					attrs.PutInt(AttrLoginsCount, n)
				}
			}
			if risk, ok := getMap(details, "riskAssessment"); ok {
				mapRiskAssessment(risk, attrs)
			}
		}
	}
}

// mapRiskAssessment copies the confidences of Adaptive MFA's assessment,
// {"confidence", "assessments": {"ImpossibleTravel": {"confidence"}, ...}},
// to attributes: a few values each, so that they can be index-time fields
// and searched whatever the body format.
func mapRiskAssessment(risk, attrs pcommon.Map) {
	putStr(attrs, AttrRiskConfidence, getStr(risk, "confidence"))
	assessments, ok := getMap(risk, "assessments")
	if !ok {
		return
	}
	for _, a := range [...]struct{ name, attr string }{
		{"ImpossibleTravel", AttrRiskImpossibleTravel},
		{"NewDevice", AttrRiskNewDevice},
		{"UntrustedIP", AttrRiskUntrustedIP},
	} {
		if assessment, ok := getMap(assessments, a.name); ok {
			putStr(attrs, a.attr, getStr(assessment, "confidence"))
		}
	}
}

// logEventAttr names the attribute a log event's string field is copied to.
func logEventAttr(key string) (string, bool) {
	switch key {
	case "user_id":
		return AttrUserID, true
	case "user_name":
		return AttrUserName, true
	case "email":
		return AttrUserEmail, true
	case "ip":
		return AttrClientAddress, true
	case "user_agent":
		return AttrUserAgent, true
	case "client_id":
		return AttrClientID, true
	case "client_name":
		return AttrClientName, true
	case "connection":
		return AttrConnection, true
	case "connection_id":
		return AttrConnectionID, true
	case "strategy":
		return AttrStrategy, true
	case "strategy_type":
		return AttrStrategyType, true
	case "protocol":
		return AttrProtocol, true
	case "tenant_name":
		return AttrTenant, true
	case "hostname":
		return AttrHostname, true
	case "organization_id":
		return AttrOrganizationID, true
	case "organization_name":
		return AttrOrganizationName, true
	}
	return "", false
}

// setType records the type code, its human name and category, and derives
// the severity from them.
func setType(lr plog.LogRecord, code string) {
	if code == "" {
		return
	}
	attrs := lr.Attributes()
	attrs.PutStr(AttrType, code)
	ti, known := LookupType(code)
	if !known {
		return
	}
	attrs.PutStr(AttrTypeName, ti.Name)
	attrs.PutStr(AttrCategory, ti.Kind.String())
	sev := ti.Kind.Severity()
	lr.SetSeverityNumber(sev)
	lr.SetSeverityText(severityText[sev])
}

var severityText = map[plog.SeverityNumber]string{
	plog.SeverityNumberInfo:  "INFO",
	plog.SeverityNumberWarn:  "WARN",
	plog.SeverityNumberError: "ERROR",
}

// parseTime reads Auth0's ISO 8601 timestamps ("2026-11-20T08:13:24.062Z").
func parseTime(s string) (pcommon.Timestamp, bool) {
	if s == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return pcommon.NewTimestampFromTime(t), true
}
