// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
)

// TestThroughSplunkHEC runs the receiver into the real contrib splunk_hec
// exporter, which sends to the real contrib splunk_hec receiver, and checks
// the HEC events on the wire.
func TestThroughSplunkHEC(t *testing.T) {
	hec := hectest.Start(t)
	exp := hec.NewExporter(t, func(c *splunkhecexporter.Config) {
		c.Source = "auth0"
		c.SourceType = "auth0_activity"
	})
	h := startReceiver(t, exp)

	lines := auth0test.Sample(auth0test.LogStreamLines)
	r := h.post("/auth0/logs", lines)
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = h.post("/auth0/actions", auth0test.Sample(auth0test.Action))
	require.Equal(t, http.StatusOK, r.status, r.body)

	events := hec.Events()
	require.Len(t, events, 6)
	assert.Equal(t, 6, hec.Sink.LogRecordCount(), "the HEC receiver accepted every event")

	// A log stream record's HEC event is the Auth0 record itself, so Auth0's
	// Splunk dashboards (which read data.*) work unchanged.
	var original map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(string(lines), "\n", 3)[1]), &original))
	login := events[1]
	assert.Equal(t, original, login["event"])
	assert.Equal(t, "auth0", login["source"])
	assert.Equal(t, "auth0_activity", login["sourcetype"])
	assert.InDelta(t, 1795162405.118, login["time"], 0.0005, "HEC time is the Auth0 event's date")
	fields := login["fields"].(map[string]any)
	for k, want := range map[string]any{
		"user.id":             "auth0|6182f1a9c3d4e5f60718293a",
		"user.name":           "ana@example.com",
		"client.address":      "203.0.113.7",
		"user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
		"auth0.type":          "s",
		"auth0.type_name":     "Success Login",
		"auth0.client_name":   "Storefront",
		"auth0.log_id":        "90020261120081325118000000000000000000000000000002",
		"auth0.source":        "log_stream",
		"auth0.logins_count":  float64(1),
		"auth0.tenant":        "acme",
	} {
		assert.Equal(t, want, fields[k], k)
	}

	action := events[5]
	assert.Equal(t, "action", action["fields"].(map[string]any)["auth0.source"])
	body := action["event"].(map[string]any)
	assert.Equal(t, float64(1), body["schema_version"])
	assert.Equal(t, map[string]any{"plan": "gold"}, body["user"].(map[string]any)["app_metadata"])
}

// When Splunk refuses for now, Auth0 is told to retry, and the retry is
// delivered (not dropped as a duplicate).
func TestSplunkOutageAnswers503(t *testing.T) {
	hec := hectest.Start(t)
	exp := hec.NewExporter(t, nil)
	h := startReceiver(t, exp)

	hec.SetStatus(http.StatusServiceUnavailable)
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "5", r.header.Get("Retry-After"))

	hec.SetStatus(0)
	r = h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Len(t, hec.Events(), 5)
}
