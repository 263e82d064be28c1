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
	if ts, ok := parseTime(getStr(event, "date")); ok {
		lr.SetTimestamp(ts)
	}

	attrs := lr.Attributes()
	attrs.EnsureCapacity(20)
	attrs.PutStr(AttrSource, string(src))
	putStr(attrs, AttrLogID, h.ID)
	setType(lr, h.Type)

	putStr(attrs, AttrUserID, getStr(event, "user_id"))
	putStr(attrs, AttrUserName, getStr(event, "user_name"))
	putStr(attrs, AttrUserEmail, getStr(event, "email"))
	putStr(attrs, AttrClientAddress, getStr(event, "ip"))
	putStr(attrs, AttrUserAgent, getStr(event, "user_agent"))
	putStr(attrs, AttrClientID, getStr(event, "client_id"))
	putStr(attrs, AttrClientName, getStr(event, "client_name"))
	putStr(attrs, AttrConnection, getStr(event, "connection"))
	putStr(attrs, AttrConnectionID, getStr(event, "connection_id"))
	putStr(attrs, AttrStrategy, getStr(event, "strategy"))
	putStr(attrs, AttrStrategyType, getStr(event, "strategy_type"))
	putStr(attrs, AttrProtocol, getStr(event, "protocol"))
	putStr(attrs, AttrTenant, getStr(event, "tenant_name"))
	putStr(attrs, AttrHostname, getStr(event, "hostname"))
	putStr(attrs, AttrOrganizationID, getStr(event, "organization_id"))
	putStr(attrs, AttrOrganizationName, getStr(event, "organization_name"))
	if details, ok := getMap(event, "details"); ok {
		if stats, ok := getMap(details, "stats"); ok {
			if n, ok := getInt(stats, "loginsCount"); ok {
				attrs.PutInt(AttrLoginsCount, n)
			}
		}
	}
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
