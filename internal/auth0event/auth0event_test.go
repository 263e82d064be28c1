// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

var observed = pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 8, 20, 0, 0, time.UTC))

// updateGolden rewrites the expected files: UPDATE_GOLDEN=1 go test ./...
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func readTestdata(_ *testing.T, name string) []byte {
	return auth0test.Sample(name)
}

func walkToLogs(t *testing.T, body []byte, src Source) (plog.Logs, []RecordError) {
	t.Helper()
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	_, rejected, err := WalkLogStream(body, DefaultLimits, func(rec pcommon.Map) {
		MapLogEvent(rec, LogEventHeader(rec), src, observed, records.AppendEmpty())
	})
	require.NoError(t, err)
	return logs, rejected
}

func compareGolden(t *testing.T, name string, got plog.Logs) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden {
		require.NoError(t, golden.WriteLogs(t, path, got))
	}
	want, err := golden.ReadLogs(path)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(want, got))
}

// All three content formats of a custom webhook log stream decode to the same
// records; the golden file pins every attribute, timestamp and body.
func TestLogStreamFormats(t *testing.T) {
	lines, rejected := walkToLogs(t, readTestdata(t, "logstream.jsonl"), SourceLogStream)
	require.Empty(t, rejected)
	compareGolden(t, "logstream_expected.yaml", lines)

	array, rejected := walkToLogs(t, readTestdata(t, "logstream_array.json"), SourceLogStream)
	require.Empty(t, rejected)
	require.NoError(t, plogtest.CompareLogs(lines, array))

	object, rejected := walkToLogs(t, readTestdata(t, "logstream_object.json"), SourceLogStream)
	require.Empty(t, rejected)
	require.Equal(t, 1, object.LogRecordCount())
	want := plog.NewLogs()
	lines.ResourceLogs().At(0).CopyTo(want.ResourceLogs().AppendEmpty())
	records := want.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	keep := records.At(1)
	records.RemoveIf(func(lr plog.LogRecord) bool {
		return lr.Attributes().AsRaw()[AttrLogID] != keep.Attributes().AsRaw()[AttrLogID]
	})
	require.NoError(t, plogtest.CompareLogs(want, object))
}

func TestLoginRecordAttributes(t *testing.T) {
	logs, _ := walkToLogs(t, readTestdata(t, "logstream.jsonl"), SourceLogStream)
	lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
	assert.Equal(t, map[string]any{
		AttrSource:           "log_stream",
		AttrLogID:            "90020261120081325118000000000000000000000000000002",
		AttrType:             "s",
		AttrTypeName:         "Success Login",
		AttrCategory:         "login",
		AttrUserID:           "auth0|6182f1a9c3d4e5f60718293a",
		AttrUserName:         "ana@example.com",
		AttrClientAddress:    "203.0.113.7",
		AttrUserAgent:        "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
		AttrClientID:         "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB",
		AttrClientName:       "Storefront",
		AttrConnection:       "Username-Password-Authentication",
		AttrConnectionID:     "con_9fGkXw2Lq7TzY1aB",
		AttrStrategy:         "auth0",
		AttrStrategyType:     "database",
		AttrTenant:           "acme",
		AttrHostname:         "acme.eu.auth0.com",
		AttrOrganizationID:   "org_W1xY2zA3bC4dE5fG",
		AttrOrganizationName: "Acme Retail",
		AttrLoginsCount:      int64(1),
	}, lr.Attributes().AsRaw())
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	assert.Equal(t, "INFO", lr.SeverityText())
	assert.Equal(t, time.Date(2026, 11, 20, 8, 13, 25, 118e6, time.UTC), lr.Timestamp().AsTime())
	assert.Equal(t, observed, lr.ObservedTimestamp())

	failed := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2)
	assert.Equal(t, plog.SeverityNumberWarn, failed.SeverityNumber())
	name, _ := failed.Attributes().Get(AttrUserName)
	assert.Equal(t, "björn@exämple.com", name.Str())

	unknown := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(4)
	assert.Equal(t, plog.SeverityNumberUnspecified, unknown.SeverityNumber())
	_, hasName := unknown.Attributes().Get(AttrTypeName)
	assert.False(t, hasName, "unknown codes get no invented name")
	_, hasUser := unknown.Attributes().Get(AttrUserID)
	assert.False(t, hasUser, "missing fields stay absent")
	// Unknown fields survive in the body, untouched.
	data, _ := unknown.Body().Map().Get("data")
	future, _ := data.Map().Get("future_field")
	assert.Equal(t, map[string]any{"nested": []any{int64(1), 2.5, true, nil}}, future.AsRaw())
}

// The body is the record exactly as received: a lossless round trip.
func TestBodyIsLossless(t *testing.T) {
	body := readTestdata(t, "logstream.jsonl")
	logs, _ := walkToLogs(t, body, SourceLogStream)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	records := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, len(lines), records.Len())
	for i, line := range lines {
		want := pcommon.NewMap()
		require.NoError(t, newJSONReader([]byte(line), JSONLimits{}).ParseObject(want))
		assert.Equal(t, want.AsRaw(), records.At(i).Body().Map().AsRaw())
	}
}

// GET /api/v2/logs returns bare events; they get the stream's envelope.
func TestBareEventsGetTheStreamShape(t *testing.T) {
	bare, rejected := walkToLogs(t, readTestdata(t, "logapi_bare.json"), SourceLogAPI)
	require.Empty(t, rejected)
	compareGolden(t, "logapi_expected.yaml", bare)

	stream, _ := walkToLogs(t, readTestdata(t, "logstream.jsonl"), SourceLogStream)
	for i := range 2 {
		got := bare.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i)
		want := stream.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i)
		assert.Equal(t, want.Body().AsRaw(), got.Body().AsRaw())
		src, _ := got.Attributes().Get(AttrSource)
		assert.Equal(t, "log_api", src.Str())
	}

	legacy := pcommon.NewMap()
	legacy.PutStr("_id", "legacy-1")
	legacy.PutStr("type", "s")
	assert.Equal(t, Header{ID: "legacy-1", Type: "s"}, LogEventHeader(legacy))
}

func TestWalkLogStreamRejects(t *testing.T) {
	good := `{"log_id":"a","data":{"type":"s"}}`
	tests := []struct {
		name     string
		body     string
		accepted []string
		errors   []RecordError
	}{
		{
			name:     "truncated line between valid lines",
			body:     good + "\n" + `{"log_id":"b","data":{"type":"s"` + "\n" + strings.Replace(good, `"a"`, `"c"`, 1) + "\n",
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 3, Offset: 68, Msg: "invalid JSON: expecting ',' or '}' in object, found '{'"}},
		},
		{
			name:     "garbage line",
			body:     good + "\nnot json at all\n" + strings.Replace(good, `"a"`, `"c"`, 1),
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 2, Offset: 35, Msg: `invalid JSON: invalid literal, expecting "null"`}},
		},
		{
			name:     "record of the wrong type",
			body:     good + "\n42\n\"str\"\n" + strings.Replace(good, `"a"`, `"c"`, 1),
			accepted: []string{"a", "c"},
			errors: []RecordError{
				{Record: 2, Line: 2, Offset: 35, Msg: "record is a JSON number, not an object"},
				{Record: 3, Line: 3, Offset: 38, Msg: "record is a JSON string, not an object"},
			},
		},
		{
			name:     "data is not an object",
			body:     `[` + good + `,{"log_id":"x","data":"oops"},` + strings.Replace(good, `"a"`, `"c"`, 1) + `]`,
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 2, Line: 1, Offset: 36, Msg: `field "data" is a string, not an object`}},
		},
		{
			name:     "truncated array keeps what came before",
			body:     `[` + good + `,` + strings.Replace(good, `"a"`, `"c"`, 1) + `,{"log_id":"d","da`,
			accepted: []string{"a", "c"},
			errors:   []RecordError{{Record: 3, Line: 1, Offset: 88, Msg: "invalid JSON: unexpected end of input in string"}},
		},
		{
			name:     "array element that is not an object",
			body:     `[` + good + `,[1],null]`,
			accepted: []string{"a"},
			errors: []RecordError{
				{Record: 2, Line: 1, Offset: 36, Msg: "record is a JSON array, not an object"},
				{Record: 3, Line: 1, Offset: 40, Msg: "record is a JSON null, not an object"},
			},
		},
		{
			name:     "byte order mark and blank lines",
			body:     "\xEF\xBB\xBF\n\n" + good + "\n\n\r\n",
			accepted: []string{"a"},
		},
		{
			name:     "pretty printed single object",
			body:     "{\n  \"log_id\": \"a\",\n  \"data\": {\"type\": \"s\"}\n}\n",
			accepted: []string{"a"},
		},
		{
			name:     "too deep",
			body:     `{"log_id":"x","data":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 71) + "\n" + good,
			accepted: []string{"a"},
			errors:   []RecordError{{Record: 1, Line: 1, Offset: 336, Msg: "record is beyond the receiver's limits: nesting deeper than 64 levels"}},
		},
		{
			name:     "empty array",
			body:     `[]`,
			accepted: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			_, rejected, err := WalkLogStream([]byte(tt.body), DefaultLimits, func(rec pcommon.Map) {
				ids = append(ids, LogEventHeader(rec).ID)
			})
			require.NoError(t, err)
			assert.Equal(t, tt.accepted, ids)
			assert.Equal(t, tt.errors, rejected)
		})
	}
}

// A record longer than MaxRecordBytes is refused with a clear error; the
// records around it are kept.
func TestMaxRecordBytes(t *testing.T) {
	big := `{"log_id":"big","data":{"type":"s","pad":"` + strings.Repeat("x", 300) + `"}}`
	body := `{"log_id":"a","data":{"type":"s"}}` + "\n" + big + "\n" + `{"log_id":"c","data":{"type":"s"}}`
	var ids []string
	_, rejected, err := WalkLogStream([]byte(body), Limits{MaxRecordBytes: 200}, func(rec pcommon.Map) {
		ids = append(ids, LogEventHeader(rec).ID)
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, ids)
	require.Len(t, rejected, 1)
	assert.Equal(t, fmt.Sprintf("record is %d bytes, more than max_record_size (200)", len(big)), rejected[0].Msg)
	assert.Equal(t, 2, rejected[0].Line)

	_, _, err = ParseAction(readTestdata(t, auth0test.Action), Limits{MaxRecordBytes: 100})
	assert.ErrorContains(t, err, "more than max_record_size (100)")
}

func TestWalkLogStreamEmpty(t *testing.T) {
	for _, body := range []string{"", "  \n\t ", "\xEF\xBB\xBF"} {
		_, _, err := WalkLogStream([]byte(body), DefaultLimits, func(pcommon.Map) { t.Fatal("no record expected") })
		assert.ErrorIs(t, err, ErrEmptyPayload)
	}
}

func TestAction(t *testing.T) {
	payload, h, err := ParseAction(readTestdata(t, "action.json"), DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, Header{ID: "6b1f0c52-0f4e-4c55-9a8a-2f1d8f7e4b31", Type: "s"}, h)

	logs := plog.NewLogs()
	lr := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	MapAction(payload, h, observed, lr)
	compareGolden(t, "action_expected.yaml", logs)

	view := NewView(lr.Attributes(), lr.Body())
	assert.Equal(t, SourceAction, view.Source())
	assert.Equal(t, h.ID, view.ID())
	md, ok := view.AppMetadata()
	require.True(t, ok)
	assert.Equal(t, map[string]any{"plan": "gold"}, md.AsRaw())
	n, ok := view.LoginsCount()
	assert.True(t, ok)
	assert.Equal(t, int64(1), n)
}

func TestActionTypeFollowsProtocol(t *testing.T) {
	for protocol, want := range map[string]string{
		"oidc-basic-profile":    "s",
		"samlp":                 "s",
		"":                      "s",
		"oauth2-refresh-token":  "sertft",
		"oauth2-password":       "sepft",
		"oauth2-resource-owner": "sepft",
	} {
		body := `{"schema_version":1,"event_id":"e","user":{"user_id":"u"},"transaction":{"protocol":"` + protocol + `"}}`
		_, h, err := ParseAction([]byte(body), DefaultLimits)
		require.NoError(t, err)
		assert.Equal(t, want, h.Type, protocol)
	}
}

func TestActionErrors(t *testing.T) {
	tests := map[string]string{
		``:                       "request body is empty",
		`{"schema_version":1`:    "invalid JSON at byte offset 19",
		`[]`:                     "invalid JSON at byte offset 0",
		`{} {}`:                  "unexpected data after the JSON object at byte offset 3",
		`{}`:                     `"schema_version" is missing; "event_id" must be a non-empty string; "user" must be an object`,
		`{"schema_version":"1"}`: `"schema_version" must be a number, got a string`,
		`{"schema_version":2}`:   `unsupported "schema_version" 2: this receiver understands 1`,
		`{"schema_version":1,"event_id":"e","user":{}}`:                `"user.user_id" must be a non-empty string`,
		`{"schema_version":1,"event_id":7,"user":{"user_id":"u"}}`:     `"event_id" must be a non-empty string`,
		`{"schema_version":1.0,"event_id":"e","user":{"user_id":"u"}}`: "",
	}
	for body, want := range tests {
		_, _, err := ParseAction([]byte(body), DefaultLimits)
		if want == "" {
			assert.NoError(t, err, body)
			continue
		}
		var ae *ActionError
		require.ErrorAs(t, err, &ae, body)
		assert.Contains(t, err.Error(), want, body)
	}
}

// Wrong JSON types in known fields do not cost the record: the attribute is
// left out and the value stays in the body.
func TestWrongTypesInKnownFields(t *testing.T) {
	body := `{"log_id":"w","data":{"type":5,"user_id":{"x":1},"date":"yesterday","ip":["1.2.3.4"],"details":{"stats":{"loginsCount":"3"}}}}`
	logs, rejected := walkToLogs(t, []byte(body), SourceLogStream)
	require.Empty(t, rejected)
	lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, map[string]any{AttrSource: "log_stream", AttrLogID: "w"}, lr.Attributes().AsRaw())
	assert.Zero(t, lr.Timestamp())
	data, _ := lr.Body().Map().Get("data")
	typ, _ := data.Map().Get("type")
	assert.Equal(t, int64(5), typ.Int())
}

func TestTypeTable(t *testing.T) {
	for code, ti := range KnownTypes() {
		assert.Equal(t, code, ti.Code)
		assert.NotEmpty(t, ti.Name, code)
		assert.NotEqual(t, KindUnknown, ti.Kind, code)
	}
	for code, kind := range map[string]Kind{
		"s": KindLogin, "scoa": KindLogin, "sens": KindLogin, "ss": KindSignup, "ssa": KindSilentAuth,
		"sertft": KindTokenExchange, "seacft": KindTokenExchange, "seccft": KindTokenExchange,
		"sepft": KindPasswordExchange, "slo": KindLogout, "f": KindFailure, "fs": KindFailure,
		"w": KindWarning, "limit_wc": KindSecurity, "pwd_leak": KindSecurity, "sapi": KindOther,
	} {
		ti, ok := LookupType(code)
		require.True(t, ok, code)
		assert.Equal(t, kind, ti.Kind, code)
	}
	assert.Equal(t, plog.SeverityNumberError, KindSecurity.Severity())
	assert.Equal(t, "unknown", Kind(200).String())
}

// Adaptive MFA's risk assessment becomes four attributes of a few values
// each; whatever is missing or not a string stays absent, and the body
// keeps the assessment whole.
func TestRiskAssessmentAttributes(t *testing.T) {
	risk := func(details string) map[string]any {
		line := `{"log_id":"risk-1","data":{"type":"s","user_id":"auth0|r","details":` + details + `}}`
		logs, rejected := walkToLogs(t, []byte(line), SourceLogStream)
		require.Empty(t, rejected)
		attrs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
		out := map[string]any{}
		for k, v := range attrs {
			if strings.HasPrefix(k, "auth0.risk.") {
				out[k] = v
			}
		}
		return out
	}
	assert.Equal(t, map[string]any{
		AttrRiskConfidence: "low", AttrRiskImpossibleTravel: "low", AttrRiskNewDevice: "medium", AttrRiskUntrustedIP: "high",
	}, risk(`{"stats":{"loginsCount":4},"riskAssessment":{"confidence":"low","version":"1","assessments":{
		"UntrustedIP":{"confidence":"high","code":"not_found_on_deny_list"},
		"NewDevice":{"confidence":"medium","code":"partial_match","details":{"device":"unknown","useragent":"known"}},
		"ImpossibleTravel":{"confidence":"low","code":"impossible_travel_from_last_login"}}}}`))
	assert.Equal(t, map[string]any{AttrRiskConfidence: "high", AttrRiskNewDevice: "neutral"},
		risk(`{"riskAssessment":{"confidence":"high","assessments":{"NewDevice":{"confidence":"neutral"},"UntrustedIP":{"code":"x"},"ImpossibleTravel":"high"}}}`))
	assert.Empty(t, risk(`{"riskAssessment":"high"}`))
	assert.Empty(t, risk(`{"riskAssessment":{"confidence":3,"assessments":[]}}`))
	assert.Empty(t, risk(`{"stats":{"loginsCount":1}}`))
}
