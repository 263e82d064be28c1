// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

// A zero Event is a realistic successful login; what a test sets is what
// it gets; ids are unique and sort in the order they were made.
func TestEvent(t *testing.T) {
	rec := decode(t, Event{}.JSON())
	data := rec["data"].(map[string]any)
	assert.Equal(t, rec["log_id"], data["log_id"])
	assert.Equal(t, "s", data["type"])
	assert.Equal(t, "auth0|6182f1a9c3d4e5f60718293a", data["user_id"])
	assert.Equal(t, "2026-11-20T08:13:25.118Z", data["date"])
	assert.NotContains(t, data, "protocol")
	assert.NotContains(t, data["details"], "stats", "no logins count unless asked")

	data = decode(t, Event{LogID: "L1", Type: "ss", UserID: "auth0|x", LoginsCount: 3, Protocol: "oauth2-refresh-token"}.JSON())["data"].(map[string]any)
	assert.Equal(t, "L1", data["log_id"])
	assert.Equal(t, "ss", data["type"])
	assert.Equal(t, "auth0|x", data["user_id"])
	assert.Equal(t, "oauth2-refresh-token", data["protocol"])
	assert.Equal(t, map[string]any{"loginsCount": 3.0}, data["details"].(map[string]any)["stats"])

	a, b := Event{}.Record()["log_id"].(string), Event{}.Record()["log_id"].(string)
	assert.Len(t, a, 50)
	assert.Less(t, a, b)
}

func TestLines(t *testing.T) {
	batch := Lines(Event{LogID: "1"}, Event{LogID: "2"}, Event{LogID: "3"})
	lines := bytes.Split(bytes.TrimSuffix(batch, []byte("\n")), []byte("\n"))
	require.Len(t, lines, 3)
	for i, line := range lines {
		assert.Equal(t, []string{"1", "2", "3"}[i], decode(t, line)["log_id"])
	}
	assert.Empty(t, Lines())
}

// A zero ActionEvent is a schema v1 post-login payload; app_metadata and
// stats appear only when set.
func TestActionEvent(t *testing.T) {
	p := decode(t, ActionEvent{}.JSON())
	assert.Equal(t, 1.0, p["schema_version"])
	assert.NotEmpty(t, p["event_id"])
	assert.Equal(t, "oidc-basic-profile", p["transaction"].(map[string]any)["protocol"])
	assert.NotContains(t, p["user"], "app_metadata")
	assert.NotContains(t, p, "stats")

	p = decode(t, ActionEvent{EventID: "e1", UserID: "auth0|y", AppMetadata: map[string]any{}, LoginsCount: 2}.JSON())
	assert.Equal(t, "e1", p["event_id"])
	user := p["user"].(map[string]any)
	assert.Equal(t, "auth0|y", user["user_id"])
	assert.Equal(t, map[string]any{}, user["app_metadata"], "empty app_metadata is sent")
	assert.Equal(t, map[string]any{"logins_count": 2.0}, p["stats"])
}
