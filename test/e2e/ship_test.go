// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestShippedPipeline is the platform team's first afternoon: the built
// binary, otelcol-config.yaml and environment variables only, a HEC endpoint
// in another process, the fake Auth0 Management API in a third. Log stream
// batches and Action calls go in; the Rule's SignUp and Login events come
// out at HEC, new users are PATCHed, and a SIGTERM leaves nothing queued.
func TestShippedPipeline(t *testing.T) {
	fake := StartFakeAuth0(t)
	fake.AddUser("auth0|db-new", map[string]any{})
	fake.AddUser("auth0|sso-returning", map[string]any{"signedUp": true, "plan": "gold"})
	fake.AddUser("google-oauth2|social-new", map[string]any{})
	fake.AddUser("auth0|action-returning", map[string]any{"signedUp": true})
	hec := StartHEC(t)

	storage := t.TempDir()
	c := StartCollector(t, Options{HECEndpoint: hec.URL(), Storage: storage, Env: fake.Env()})

	batch := auth0test.Lines(
		auth0test.Event{LogID: "e2e-1", Type: "ss", UserID: "auth0|db-new"},
		auth0test.Event{LogID: "e2e-2", Type: "s", UserID: "auth0|db-new", LoginsCount: 1},
		auth0test.Event{LogID: "e2e-3", Type: "s", UserID: "auth0|sso-returning"},
		auth0test.Event{LogID: "e2e-4", Type: "fp", UserID: "auth0|db-new"},
		auth0test.Event{LogID: "e2e-5", Type: "sertft", UserID: "auth0|sso-returning"},
	)
	status, body := c.Post("/auth0/logs", batch)
	require.Equal(t, http.StatusOK, status, body)
	status, body = c.Post("/auth0/actions", auth0test.ActionEvent{EventID: "a-1", UserID: "google-oauth2|social-new", AppMetadata: map[string]any{}, LoginsCount: 1}.JSON())
	require.Equal(t, http.StatusOK, status, body)
	status, body = c.Post("/auth0/actions", auth0test.ActionEvent{EventID: "a-2", UserID: "auth0|action-returning", AppMetadata: map[string]any{"signedUp": true}, LoginsCount: 9}.JSON())
	require.Equal(t, http.StatusOK, status, body)
	// Auth0 redelivers the batch: nothing new reaches Splunk.
	status, body = c.Post("/auth0/logs", batch)
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"accepted":0,"duplicates":5,"filtered":0,"rejected":0}`, body)

	records := hec.WaitHECRecords(7, 30*time.Second)
	type seen struct{ user, message string }
	var got []seen
	for _, lr := range records {
		user := userID(lr)
		message := ""
		if m, ok := lr.Body().Map().Get("message"); ok {
			message = m.Str()
		}
		got = append(got, seen{user, message})
	}
	assert.ElementsMatch(t, []seen{
		{"auth0|db-new", "SignUp"},
		{"auth0|db-new", "Login"},
		{"auth0|sso-returning", "Login"},
		{"auth0|db-new", ""},        // failed login: the Auth0 record, untagged
		{"auth0|sso-returning", ""}, // refresh-token exchange: never a Login
		{"google-oauth2|social-new", "SignUp"},
		{"auth0|action-returning", "Login"},
	}, got)

	signup := findRecord(t, records, "google-oauth2|social-new")
	assert.Equal(t, map[string]any{
		"message": "SignUp", "application": "Storefront", "clientIP": "203.0.113.7",
		"protocol": "oidc-basic-profile", "userName": "ana@example.com", "userId": "google-oauth2|social-new",
	}, signup.Body().Map().AsRaw(), "the Rule's event, field for field")
	assert.Equal(t, "auth0_activity", attr(signup, "com.splunk.sourcetype"))
	assert.Equal(t, "auth0", attr(signup, "com.splunk.source"))

	require.Eventually(t, func() bool {
		p := fake.Calls(http.MethodPatch)
		return p["auth0|db-new"] == 1 && p["google-oauth2|social-new"] == 1
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, map[string]int{"auth0|db-new": 1, "google-oauth2|social-new": 1}, fake.Calls(http.MethodPatch), "returning users are never patched")
	assert.Equal(t, map[string]any{"signedUp": true}, fake.AppMetadata("google-oauth2|social-new"))
	assert.Equal(t, map[string]int{"auth0|sso-returning": 1}, fake.Calls(http.MethodGet), "one lookup, for the user nothing else told about")

	// Nothing left in the sending queue, then a clean SIGTERM.
	require.Eventually(t, func() bool { return queueSize(t, c.Scrape()) == 0 }, 30*time.Second, 200*time.Millisecond)
	require.Equal(t, 0, c.Terminate(60*time.Second))
	assert.Contains(t, c.Output(), "Shutdown complete.")

	// A restart on the same storage redelivers nothing.
	again := StartCollector(t, Options{HECEndpoint: hec.URL(), Storage: storage, Env: fake.Env()})
	time.Sleep(3 * time.Second)
	assert.Len(t, hec.HECRecords(), 7)
	assert.Len(t, fake.Calls(http.MethodPatch), 2)
	require.Equal(t, 0, again.Terminate(60*time.Second))

	assertNoSecrets(t, c.Output()+again.Output()+hec.Output(), Secret, HECToken, FakeClientSecret)
}

func attr(lr plog.LogRecord, key string) string {
	if v, ok := lr.Attributes().Get(key); ok {
		return v.AsString()
	}
	return ""
}

// userID is the Auth0 user of a HEC event, as a Splunk search finds it:
// user.id is not an index-time field by default, so it comes from the
// event, whichever its shape (the Rule's object, the Auth0 record, the
// Action's payload).
func userID(lr plog.LogRecord) string {
	if id := attr(lr, "user.id"); id != "" {
		return id
	}
	if lr.Body().Type() != pcommon.ValueTypeMap {
		return ""
	}
	body := lr.Body().Map()
	for _, path := range [][]string{{"userId"}, {"data", "user_id"}, {"user", "user_id"}} {
		m := body
		for i, key := range path {
			v, ok := m.Get(key)
			if !ok {
				break
			}
			if i == len(path)-1 {
				return v.AsString()
			}
			if v.Type() != pcommon.ValueTypeMap {
				break
			}
			m = v.Map()
		}
	}
	return ""
}

func findRecord(t *testing.T, records []plog.LogRecord, user string) plog.LogRecord {
	t.Helper()
	for _, lr := range records {
		if userID(lr) == user {
			return lr
		}
	}
	t.Fatalf("no record of %s", user)
	return plog.LogRecord{}
}

// queueSize reads otelcol_exporter_queue_size from a Prometheus scrape.
func queueSize(t *testing.T, metrics string) float64 {
	t.Helper()
	s := bufio.NewScanner(strings.NewReader(metrics))
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "otelcol_exporter_queue_size{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("no otelcol_exporter_queue_size in the collector's metrics")
	return -1
}
