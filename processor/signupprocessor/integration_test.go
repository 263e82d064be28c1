// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
)

// ruleEvent is what the legacy Rule posted to HEC /services/collector.
func ruleEvent(message, protocol string) map[string]any {
	event := map[string]any{
		"message":     message,
		"application": "Storefront",
		"clientIP":    "203.0.113.7",
		"userName":    "ana@example.com",
		"userId":      "auth0|6182f1a9c3d4e5f60718293a",
	}
	if protocol != "" {
		event["protocol"] = protocol
	}
	return map[string]any{"event": event, "source": "auth0", "sourcetype": "auth0_activity"}
}

// onlyRuleFields keeps what the Rule's HEC request had.
func onlyRuleFields(hecEvent map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"event", "source", "sourcetype", "index"} {
		if v, ok := hecEvent[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TestRuleEventsThroughSplunkHEC runs the processor into the real contrib
// splunk_hec exporter and receiver: the HEC event of a first login is the
// Rule's SignUp event field for field, the next login's its Login event.
func TestRuleEventsThroughSplunkHEC(t *testing.T) {
	hec := hectest.Start(t)
	e := newEnv(t)
	e.fake.AddUser("auth0|6182f1a9c3d4e5f60718293a", nil)
	p := e.startWithNext(e.config(), hec.NewExporter(t, func(c *splunkhecexporter.Config) {
		// The exporter's own source/sourcetype stay empty: the processor's
		// com.splunk.* attributes must be what sets them.
		c.Source, c.SourceType = "", ""
	}))

	// The Action path knows the protocol, as the Rule did.
	first := auth0test.ActionEvent{EventID: "e1", LoginsCount: 1}.JSON()
	second := auth0test.ActionEvent{EventID: "e2", LoginsCount: 2}.JSON()
	require.NoError(t, p.ConsumeLogs(t.Context(), toLogs(t, first)))
	require.NoError(t, p.ConsumeLogs(t.Context(), toLogs(t, second)))
	// A log stream login carries no protocol: the field is left out.
	third := auth0test.Lines(auth0test.Event{LogID: "l3", LoginsCount: 3})
	require.NoError(t, p.ConsumeLogs(t.Context(), toLogs(t, third)))

	events := hec.Events()
	require.Len(t, events, 3)
	assert.Equal(t, ruleEvent("SignUp", "oidc-basic-profile"), onlyRuleFields(events[0]))
	assert.Equal(t, ruleEvent("Login", "oidc-basic-profile"), onlyRuleFields(events[1]))
	assert.Equal(t, ruleEvent("Login", ""), onlyRuleFields(events[2]))
	fields := events[0]["fields"].(map[string]any)
	assert.Equal(t, "SignUp", fields["auth0.event"], "the decision is also a searchable field")

	require.Eventually(t, func() bool { return e.fake.AppMetadata("auth0|6182f1a9c3d4e5f60718293a")["signedUp"] == true },
		5*time.Second, 10*time.Millisecond, "the user was marked after HEC accepted the SignUp")
}

// In the auth0 body format the HEC event is the Auth0 record, which the
// Auth0 App for Splunk reads, and the index is set when configured.
func TestAuth0BodyFormatThroughSplunkHEC(t *testing.T) {
	hec := hectest.Start(t)
	e := newEnv(t)
	cfg := e.config()
	cfg.BodyFormat = BodyFormatAuth0
	cfg.Splunk.Index = "auth0_idx"
	p := e.startWithNext(cfg, hec.NewExporter(t, nil))
	line := auth0test.Event{LogID: "l1", LoginsCount: 4}
	require.NoError(t, p.ConsumeLogs(t.Context(), toLogs(t, auth0test.Lines(line))))

	events := hec.Events()
	require.Len(t, events, 1)
	assert.Equal(t, "auth0_idx", events[0]["index"])
	body := events[0]["event"].(map[string]any)
	assert.Equal(t, "l1", body["log_id"])
	data := body["data"].(map[string]any)
	assert.Equal(t, "203.0.113.7", data["ip"])
	assert.Equal(t, "Storefront", data["client_name"])
	assert.Equal(t, "Login", events[0]["fields"].(map[string]any)["auth0.event"])
}
