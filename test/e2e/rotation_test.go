// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// Secrets of a receiver secret's rotation.
const (
	rotationNew = "e2e-rotation-new-5e81c2"
	rotationOld = "e2e-rotation-old-a07d3f"
)

// postWith sends body to the log stream path with this Authorization header.
func (c *Collector) postWith(authorization string, body []byte) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+c.Receiver+"/auth0/logs", bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}

// TestSecretRotation rotates the receiver's secret as
// docs/rotate-secrets.md says, with otelcol-config.yaml and its variables:
// the collector runs with the new secret and the previous one, and takes
// both; restarted with the new one alone, it refuses the old.
func TestSecretRotation(t *testing.T) {
	hec := StartHEC(t)
	storage := t.TempDir()
	c := StartCollector(t, Options{HECEndpoint: hec.URL(), Storage: storage, Env: map[string]string{
		"AUTH0_RECEIVER_SECRET":          rotationNew,
		"AUTH0_RECEIVER_PREVIOUS_SECRET": rotationOld,
	}})
	event := func(id string) []byte { return auth0test.Lines(auth0test.Event{LogID: id, Type: "f"}) }

	// The log stream still sends the old secret verbatim; the Action
	// already has the new one.
	status, body := c.postWith(rotationOld, event("rot-1"))
	require.Equal(t, http.StatusOK, status, body)
	status, body = c.postWith("Bearer "+rotationNew, event("rot-2"))
	require.Equal(t, http.StatusOK, status, body)
	status, _ = c.postWith("Bearer "+rotationOld[:len(rotationOld)-1], event("rot-x"))
	require.Equal(t, http.StatusUnauthorized, status, "a prefix of a valid secret")
	metrics := c.Scrape()
	assert.Contains(t, metrics, `otelcol_receiver_auth0login_requests_authenticated{endpoint="logs",secret="current"} 1`)
	assert.Contains(t, metrics, `otelcol_receiver_auth0login_requests_authenticated{endpoint="logs",secret="previous"} 1`)
	assert.Contains(t, c.Output(), "accepts the previous secrets beside the current one")
	require.Equal(t, 0, c.Terminate(time.Minute))

	// Every sender has the new secret: the previous one is removed (the
	// variable left unset), and the collector restarted.
	c2 := StartCollector(t, Options{HECEndpoint: hec.URL(), Storage: storage, Env: map[string]string{
		"AUTH0_RECEIVER_SECRET": rotationNew,
	}})
	status, body = c2.postWith(rotationOld, event("rot-3"))
	require.Equal(t, http.StatusUnauthorized, status, body)
	assert.Contains(t, body, "missing or wrong Authorization header")
	for _, header := range []string{"", "Bearer ", "Bearer " + rotationNew[:10], rotationNew + "x"} {
		status, _ = c2.postWith(header, event("rot-x"))
		assert.Equal(t, http.StatusUnauthorized, status, "Authorization: %q", header)
	}
	status, body = c2.postWith("Bearer "+rotationNew, event("rot-4"))
	require.Equal(t, http.StatusOK, status, body)
	assert.NotContains(t, c2.Output(), "accepts the previous secrets")

	ids := map[string]bool{}
	for _, lr := range hec.WaitHECRecords(3, 30*time.Second) {
		id, _ := lr.Body().Map().Get("log_id")
		ids[id.Str()] = true
	}
	assert.Equal(t, map[string]bool{"rot-1": true, "rot-2": true, "rot-4": true}, ids, "the accepted requests, and only them, reach Splunk")
	require.Equal(t, 0, c2.Terminate(time.Minute))
	assertNoSecrets(t, c.Output()+c2.Output(), rotationNew, rotationOld, HECToken)
}
