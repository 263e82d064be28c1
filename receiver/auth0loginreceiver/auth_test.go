// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

const (
	newSecret = "rot_new_9fK2-secret"
	oldSecret = "rot_old_3Jd8-secret"
)

func TestSecretMatcher(t *testing.T) {
	m := newSecretMatcher([]string{newSecret, oldSecret})
	for header, want := range map[string]int{
		newSecret:                    0,
		"Bearer " + newSecret:        0,
		oldSecret:                    1,
		"bearer " + oldSecret:        1,
		"":                           -1,
		"Bearer ":                    -1, //nolint:gocritic // the scheme without a secret is the case
		newSecret[:5]:                -1,
		oldSecret[:len(oldSecret)-1]: -1,
		"Bearer " + oldSecret + "x":  -1,
		newSecret + oldSecret:        -1,
		"Basic " + newSecret:         -1,
		"Bearer " + newSecret[:1]:    -1,
		"Bearer " + oldSecret[1:]:    -1,
		"Bearer" + oldSecret:         -1,
		fmt.Sprintf("%s,%s", newSecret, oldSecret): -1,
	} {
		assert.Equal(t, want, m.match(header), "Authorization: %q", header)
	}
	// The same secret listed twice is reported as the first.
	assert.Equal(t, 0, newSecretMatcher([]string{newSecret, newSecret}).match(newSecret))
}

// During a rotation the receiver takes both secrets and counts which one
// each request carried; once the previous secret is removed (a restart or a
// reload makes a new receiver), it is refused like any wrong one.
func TestRotation(t *testing.T) {
	sink := new(consumertest.LogsSink)
	rotating := func(c *Config) {
		c.Secret = newSecret
		c.PreviousSecrets = []configopaque.String{oldSecret, ""}
	}
	h := startReceiver(t, sink, rotating)
	started := h.logs.FilterMessageSnippet("accepts the previous secrets").All()
	require.Len(t, started, 1)
	assert.Equal(t, int64(1), started[0].ContextMap()["previous_secrets"], "the empty entry is ignored")

	logs := auth0test.Sample(auth0test.LogStreamObject)
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", logs, "Authorization", "Bearer "+oldSecret).status)
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", logs, "Authorization", newSecret).status)
	assert.Equal(t, http.StatusOK, h.post("/auth0/actions", auth0test.Sample(auth0test.Action), "Authorization", "Bearer "+oldSecret).status)
	for _, header := range []string{"", "Bearer ", "Bearer wrong", oldSecret[:len(oldSecret)-1], "Bearer " + newSecret[:8]} {
		r := h.post("/auth0/logs", logs, "Authorization", header)
		assert.Equal(t, http.StatusUnauthorized, r.status, "Authorization: %q", header)
		assert.Contains(t, r.body["error"], "missing or wrong Authorization header: send the configured secret (or, while rotating, one of previous_secrets)")
	}
	metadatatest.AssertEqualReceiverAuth0loginRequestsAuthenticated(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs"), attribute.String("secret", "previous")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs"), attribute.String("secret", "current")), Value: 1},
		{Attributes: attribute.NewSet(attribute.String("endpoint", "actions"), attribute.String("secret", "previous")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	for _, entry := range h.logs.All() {
		for _, s := range []string{newSecret, oldSecret} {
			assert.NotContains(t, fmt.Sprint(entry.Message, entry.ContextMap()), s)
		}
	}

	// The rotation is over: only the new secret.
	h = startReceiver(t, sink, func(c *Config) { c.Secret = newSecret })
	assert.Empty(t, h.logs.FilterMessageSnippet("accepts the previous secrets").All())
	r := h.post("/auth0/logs", logs, "Authorization", "Bearer "+oldSecret)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.body["error"], "missing or wrong Authorization header")
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", logs, "Authorization", "Bearer "+newSecret).status)
}

func TestRotationConfig(t *testing.T) {
	cfg := loadConfig(t, "rotating")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, configopaque.String("new-token"), cfg.Secret)
	assert.Equal(t, []string{"new-token", "old-token"}, cfg.secrets(), "the current secret first, empty entries dropped")
	assert.NotContains(t, fmt.Sprintf("%v %+v", cfg.PreviousSecrets, cfg), "old-token", "secrets never print")

	err := confmap.Validate(loadConfig(t, "rotation_invalid"))
	assert.ErrorContains(t, err, `"previous_secrets" is set but "secret" is empty`)
	assert.ErrorContains(t, err, `"previous_secrets[1]" has leading or trailing whitespace`)

	// An unset environment variable in the list (an empty entry) alone is
	// not a rotation.
	cfg = createDefaultConfig().(*Config)
	cfg.Secret = "ok"
	cfg.PreviousSecrets = []configopaque.String{""}
	assert.NoError(t, cfg.Validate())
	assert.Equal(t, []string{"ok"}, cfg.secrets())
	cfg.Secret = ""
	assert.ErrorContains(t, cfg.Validate(), "no authentication", "an empty previous secret authenticates nothing")

	cfg.PreviousSecrets = []configopaque.String{"old"}
	cfg.AllowUnauthenticated = true
	assert.ErrorContains(t, cfg.Validate(), `"previous_secrets" is set but "secret" is empty`)
}

// An empty Authorization header never matches, even with an empty entry
// in previous_secrets.
func TestEmptySecretNeverMatches(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop(), func(c *Config) { c.PreviousSecrets = []configopaque.String{""} })
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject), "Authorization", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
}
