// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

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
