// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensionauth/extensionauthtest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
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
		return metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("endpoint", endpoint), attribute.String("auth0.type", typ)), Value: n}
	}
	metadatatest.AssertEqualReceiverAuth0loginRecords(t, h.tel, []metricdata.DataPoint[int64]{
		dp("logs", "ss", 1), dp("logs", "s", 1), dp("logs", "fp", 1), dp("logs", "sertft", 1),
		dp("logs", "unknown", 1), dp("actions", "s", 1),
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
