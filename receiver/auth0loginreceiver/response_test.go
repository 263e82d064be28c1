// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensionauth/extensionauthtest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

// A confighttp auth extension guards the endpoints as well as, or instead
// of, the secret.
func TestAuthExtension(t *testing.T) {
	withExtension := func(c *Config) {
		c.Secret = ""
		c.ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("testauth")}})
	}
	refusing := hostWithExtensions{component.MustNewID("testauth"): extensionauthtest.NewErr(errors.New("denied"))}
	h := startReceiverWithHost(t, consumertest.NewNop(), refusing, withExtension)
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "denied", r.body["error"], "the receiver's JSON answer")
	assert.Equal(t, http.StatusUnauthorized, h.post("/auth0/actions", auth0test.Sample(auth0test.Action)).status)
	metadatatest.AssertEqualReceiverAuth0loginRequestsRejected(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs"), attribute.String("reason", "unauthorized")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("endpoint", "actions"), attribute.String("reason", "unauthorized")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	accepting := hostWithExtensions{component.MustNewID("testauth"): extensionauthtest.NewNopServer()}
	h = startReceiverWithHost(t, consumertest.NewNop(), accepting, withExtension)
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject), "Authorization", "").status)
}

func TestRecordsByTypeMetric(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop())
	h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	h.post("/auth0/actions", auth0test.Sample(auth0test.Action))
	dp := func(endpoint, typ string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("endpoint", endpoint), attribute.String("auth0_type", typ)), Value: n}
	}
	metadatatest.AssertEqualReceiverAuth0loginRecords(t, h.tel, []metricdata.DataPoint[int64]{
		dp("logs", "ss", 1), dp("logs", "s", 1), dp("logs", "fp", 1), dp("logs", "sertft", 1),
		dp("logs", "unknown", 1), dp("actions", "s", 1),
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestAnswerBodies: every answer is JSON with its Content-Type; a summary
// lists errors only when there are some, and an error is {"error": msg}.
func TestAnswerBodies(t *testing.T) {
	w := httptest.NewRecorder()
	writeSummary(w, http.StatusOK, &batch{accepted: 3, duplicates: 1, filtered: 2})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"accepted":3,"duplicates":1,"filtered":2,"rejected":0}`, w.Body.String())

	w = httptest.NewRecorder()
	writeSummary(w, http.StatusBadRequest, &batch{rejected: 1, errors: []auth0event.RecordError{{Record: 1, Line: 2, Offset: 30, Msg: "invalid JSON"}}})
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.JSONEq(t, `{"accepted":0,"duplicates":0,"filtered":0,"rejected":1,"errors":[{"record":1,"line":2,"offset":30,"error":"invalid JSON"}]}`, w.Body.String())

	w = httptest.NewRecorder()
	writeError(w, http.StatusRequestEntityTooLarge, `request body is "too" large`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"error":"request body is \"too\" large"}`, w.Body.String())
}

// TestTypeLabels: the records metric labels a record by its type code
// when the code is in Auth0's table, "none" when it has none, and
// "unknown" otherwise, so that what a sender writes in "type" cannot grow
// the metric's cardinality.
func TestTypeLabels(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	tb, err := metadata.NewTelemetryBuilder(metadatatest.NewSettings(tel).TelemetrySettings)
	require.NoError(t, err)
	r := &auth0Receiver{telemetry: tb}

	r.countAccepted(context.Background(), &batch{endpoint: endpointPoll, types: map[string]int{"s": 2, "": 3, "x-made-up": 1, "S": 4}})
	r.countAccepted(context.Background(), &batch{endpoint: endpointActions, types: map[string]int{"s": 1, "fp": 5}})
	dp := func(endpoint, typ string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("endpoint", endpoint), attribute.String("auth0_type", typ)), Value: n}
	}
	metadatatest.AssertEqualReceiverAuth0loginRecords(t, tel, []metricdata.DataPoint[int64]{
		dp("poll", "s", 2), dp("poll", "none", 3), dp("poll", "unknown", 5),
		dp("actions", "s", 1), dp("actions", "fp", 5),
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
