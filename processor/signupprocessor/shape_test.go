// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadatatest"
)

func TestRecordKinds(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "a", Type: "s", UserID: "social|first", LoginsCount: 1},
		ev{LogID: "b", Type: "s", UserID: "auth0|returning", LoginsCount: 41},
		ev{LogID: "c", Type: "sertft", UserID: "auth0|returning"},
		ev{LogID: "d", Type: "ssa", UserID: "auth0|returning"},
		ev{LogID: "e", Type: "slo", UserID: "auth0|returning"},
		ev{LogID: "f", Type: "fp", UserID: "auth0|returning"},
		ev{LogID: "g", Type: "seacft", UserID: "auth0|returning"},
		ev{LogID: "h", Type: "sepft", UserID: "auth0|ropg"},
		ev{LogID: "i", Type: "s", UserID: "auth0|refresh", Protocol: "oauth2-refresh-token"},
	)))
	got := map[string]string{}
	for _, tg := range e.tags() {
		got[tg.ID] = tg.Event + "/" + tg.Basis
	}
	assert.Equal(t, map[string]string{
		"a": "SignUp/logins_count",
		"b": "Login/logins_count",
		"c": "/", "d": "/", "e": "/", "f": "/", "g": "/", "i": "/",
		"h": "Login/password_exchange",
	}, got)
}

func TestOtherRecordsCanBeDropped(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.OtherRecords = OtherRecordsDrop
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(
		ev{LogID: "1", Type: "f"}, ev{LogID: "2", Type: "sertft"}, ev{LogID: "3", Type: "s", LoginsCount: 3},
	)))
	assert.Equal(t, []tag{{"auth0|6182f1a9c3d4e5f60718293a", "Login", basisLoginsCount, "3"}}, e.tags())

	metadatatest.AssertEqualProcessorSignupRecords(t, e.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("outcome", "dropped_other"), attribute.String("basis", "none")), Value: 2},
		{Attributes: attribute.NewSet(attribute.String("outcome", "login"), attribute.String("basis", "logins_count")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}
