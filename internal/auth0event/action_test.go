// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestAction(t *testing.T) {
	payload, h, err := ParseAction(readTestdata(t, "action.json"), DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, Header{ID: "6b1f0c52-0f4e-4c55-9a8a-2f1d8f7e4b31", Type: "s"}, h)

	logs := plog.NewLogs()
	lr := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	MapAction(payload, h, observed, lr)
	compareGolden(t, "action_expected.yaml", logs)

	view := NewView(lr.Attributes(), lr.Body())
	assert.Equal(t, SourceAction, view.Source())
	assert.Equal(t, h.ID, view.ID())
	md, ok := view.AppMetadata()
	require.True(t, ok)
	assert.Equal(t, map[string]any{"plan": "gold"}, md.AsRaw())
	n, ok := view.LoginsCount()
	assert.True(t, ok)
	assert.Equal(t, int64(1), n)
}

func TestActionTypeFollowsProtocol(t *testing.T) {
	for protocol, want := range map[string]string{
		"oidc-basic-profile":    "s",
		"samlp":                 "s",
		"":                      "s",
		"oauth2-refresh-token":  "sertft",
		"oauth2-password":       "sepft",
		"oauth2-resource-owner": "sepft",
	} {
		body := `{"schema_version":1,"event_id":"e","user":{"user_id":"u"},"transaction":{"protocol":"` + protocol + `"}}`
		_, h, err := ParseAction([]byte(body), DefaultLimits)
		require.NoError(t, err)
		assert.Equal(t, want, h.Type, protocol)
	}
}

func TestActionErrors(t *testing.T) {
	tests := map[string]string{
		``:                       "request body is empty",
		`{"schema_version":1`:    "invalid JSON at byte offset 19",
		`[]`:                     "invalid JSON at byte offset 0",
		`{} {}`:                  "unexpected data after the JSON object at byte offset 3",
		`{}`:                     `"schema_version" is missing; "event_id" must be a non-empty string; "user" must be an object`,
		`{"schema_version":"1"}`: `"schema_version" must be a number, got a string`,
		`{"schema_version":2}`:   `unsupported "schema_version" 2: this receiver understands 1`,
		`{"schema_version":1,"event_id":"e","user":{}}`:                `"user.user_id" must be a non-empty string`,
		`{"schema_version":1,"event_id":7,"user":{"user_id":"u"}}`:     `"event_id" must be a non-empty string`,
		`{"schema_version":1.0,"event_id":"e","user":{"user_id":"u"}}`: "",
	}
	for body, want := range tests {
		_, _, err := ParseAction([]byte(body), DefaultLimits)
		if want == "" {
			assert.NoError(t, err, body)
			continue
		}
		var ae *ActionError
		require.ErrorAs(t, err, &ae, body)
		assert.Contains(t, err.Error(), want, body)
	}
}
