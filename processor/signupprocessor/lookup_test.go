// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

func TestLookups(t *testing.T) {
	e := newEnv(t)
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true})
	e.fake.AddUser("auth0|unmarked", map[string]any{"plan": "free"})
	e.start(e.config())

	// SSO logins carry no logins count: only the Management API can tell.
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", UserID: "auth0|marked"},
		ev{LogID: "2", UserID: "auth0|unmarked"},
		ev{LogID: "3", UserID: "auth0|marked"},
		ev{LogID: "4", UserID: "auth0|deleted"},
	)))
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "5", UserID: "auth0|marked"}, ev{LogID: "6", UserID: "auth0|unmarked"})))
	assert.Equal(t, []tag{
		{"auth0|marked", "Login", basisLookup, "1"},
		{"auth0|unmarked", "SignUp", basisLookup, "2"},
		{"auth0|marked", "Login", basisStore, "3"},
		{"auth0|deleted", "Login", basisDefault, "4"},
		{"auth0|marked", "Login", basisStore, "5"},
		{"auth0|unmarked", "Login", basisStore, "6"},
	}, e.tags())

	gets := map[string]int{}
	for _, r := range e.fake.Requests(http.MethodGet, "/api/v2/users/") {
		gets[r.UserID]++
	}
	assert.Equal(t, map[string]int{"auth0|marked": 1, "auth0|unmarked": 1, "auth0|deleted": 1}, gets, "one lookup per unknown user, none once known")

	e.waitPatched("auth0|unmarked")
	metadatatest.AssertEqualProcessorSignupLookups(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("result", "signed_up")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("result", "not_signed_up")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("result", "not_found")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
