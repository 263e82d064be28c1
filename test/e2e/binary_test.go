// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
)

func TestValidateShippedConfig(t *testing.T) {
	root := repoRoot(t)
	env := append(os.Environ(),
		"AUTH0_RECEIVER_ENDPOINT=0.0.0.0:8080",
		"AUTH0_RECEIVER_SECRET="+Secret,
		"SPLUNK_HEC_ENDPOINT=https://splunk.example:8088/services/collector",
		"SPLUNK_HEC_TOKEN="+HECToken,
		"OTELCOL_STORAGE_DIR="+t.TempDir(),
	)
	cmd := exec.Command(binarytest.Path(t), "validate", "--config", filepath.Join(root, "otelcol-config.yaml"))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))

	// Without a secret the production config refuses to start, and says why.
	cmd = exec.Command(binarytest.Path(t), "validate", "--config", filepath.Join(root, "otelcol-config.yaml"))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AUTH0_RECEIVER_SECRET=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "no authentication")
}

func TestComponents(t *testing.T) {
	out, err := exec.Command(binarytest.Path(t), "components").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, name := range []string{
		"auth0login", "otlp", "splunk_hec", "webhook_event",
		"signup", "memory_limiter", "batch", "transform", "filter", "redaction", "attributes", "resource",
		"forward", "debug", "file", "otlp_grpc", "otlp_http", "file_storage", "journal_storage", "health_check", "pprof", "zpages", "bearertokenauth",
	} {
		assert.Contains(t, string(out), "name: "+name+"\n", name)
	}
}

// TestLogStreamToHEC runs the binary as `make run` does (the local HEC
// endpoint writing to a file), posts an Auth0 batch and finds it there.
func TestLogStreamToHEC(t *testing.T) {
	c := StartCollector(t, Options{LocalHEC: true})

	status, body := c.Post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"accepted":5,"duplicates":0,"filtered":0,"rejected":0}`, body)

	records := c.HEC.WaitHECRecords(5, 30*time.Second)
	require.Len(t, records, 5)
	var bodies []map[string]any
	for _, lr := range records {
		b, err := json.Marshal(lr.Body().AsRaw())
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal(b, &body))
		bodies = append(bodies, body)
	}
	// The signup and its first login become the Rule's events; the other
	// records pass through as the Auth0 records they are.
	rule := func(message string) map[string]any {
		return map[string]any{
			"message": message, "application": "Storefront", "clientIP": "203.0.113.7",
			"userName": "ana@example.com", "userId": "auth0|6182f1a9c3d4e5f60718293a",
		}
	}
	want := []map[string]any{rule("SignUp"), rule("Login")}
	for i, line := range strings.Split(strings.TrimSpace(string(auth0test.Sample(auth0test.LogStreamLines))), "\n") {
		if i < 2 {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		want = append(want, rec)
	}
	assert.ElementsMatch(t, want, bodies)
	origin, _ := records[0].Attributes().Get("auth0.source")
	assert.Equal(t, "log_stream", origin.Str(), "the receiver's attributes arrive as HEC fields")

	metrics := c.Scrape()
	assert.Contains(t, metrics, `otelcol_receiver_accepted_log_records`)
	assert.Contains(t, metrics, `otelcol_receiver_auth0login_records{`, "counters without the _total suffix")

	assert.Equal(t, 0, c.Terminate(30*time.Second))
	assert.Contains(t, c.Output(), "Shutdown complete.")
	assertNoSecrets(t, c.Output(), Secret, HECToken)
}
