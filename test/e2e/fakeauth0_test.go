// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
)

// Credentials of the fake tenant.
const (
	FakeDomain       = "acme-e2e.eu.auth0.com"
	FakeClientID     = "e2e-mgmt-client"
	FakeClientSecret = "e2e-mgmt-secret-90b1f3"
)

// FakeAuth0 is the fake Management API (cmd/fakeauth0) in its own process.
type FakeAuth0 struct {
	t   testing.TB
	URL string
}

// StartFakeAuth0 runs cmd/fakeauth0, built by `make e2e` (FAKEAUTH0_BINARY).
func StartFakeAuth0(t testing.TB, extraArgs ...string) *FakeAuth0 {
	t.Helper()
	path := os.Getenv("FAKEAUTH0_BINARY")
	require.NotEmpty(t, path, "FAKEAUTH0_BINARY must name the built cmd/fakeauth0: run `make e2e`")
	args := append([]string{
		"-client-id", FakeClientID, "-client-secret", FakeClientSecret,
		"-audience", "https://" + FakeDomain + "/api/v2/",
	}, extraArgs...)
	cmd := exec.Command(path, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	return &FakeAuth0{t: t, URL: "http://" + strings.TrimSpace(line)}
}

// Env is what the collector needs to reach the fake.
func (f *FakeAuth0) Env() map[string]string {
	return map[string]string{
		"AUTH0_DOMAIN":         FakeDomain,
		"AUTH0_CLIENT_ID":      FakeClientID,
		"AUTH0_CLIENT_SECRET":  FakeClientSecret,
		"AUTH0_MANAGEMENT_URL": f.URL,
	}
}

// AddUser creates a user with this app_metadata.
func (f *FakeAuth0) AddUser(id string, appMetadata map[string]any) {
	f.t.Helper()
	body, err := json.Marshal(appMetadata)
	require.NoError(f.t, err)
	req, err := http.NewRequest(http.MethodPut, f.URL+"/_fake/users/"+url.PathEscape(id), bytes.NewReader(body))
	require.NoError(f.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	resp.Body.Close()
	require.Equal(f.t, http.StatusNoContent, resp.StatusCode)
}

// AddLogs adds bare log events to the tenant's log API.
func (f *FakeAuth0) AddLogs(events ...map[string]any) {
	f.t.Helper()
	body, err := json.Marshal(events)
	require.NoError(f.t, err)
	resp, err := http.Post(f.URL+"/_fake/logs", "application/json", bytes.NewReader(body))
	require.NoError(f.t, err)
	resp.Body.Close()
	require.Equal(f.t, http.StatusNoContent, resp.StatusCode)
}

// AppMetadata reads a user's app_metadata.
func (f *FakeAuth0) AppMetadata(id string) map[string]any {
	f.t.Helper()
	resp, err := http.Get(f.URL + "/_fake/users/" + url.PathEscape(id))
	require.NoError(f.t, err)
	defer resp.Body.Close()
	var md map[string]any
	require.NoError(f.t, json.NewDecoder(resp.Body).Decode(&md))
	return md
}

// Requests lists the API calls the fake answered.
func (f *FakeAuth0) Requests() []fakeauth0.Request {
	f.t.Helper()
	resp, err := http.Get(f.URL + "/_fake/requests")
	require.NoError(f.t, err)
	defer resp.Body.Close()
	var reqs []fakeauth0.Request
	require.NoError(f.t, json.NewDecoder(resp.Body).Decode(&reqs))
	return reqs
}

// Calls counts successful calls per user for a method.
func (f *FakeAuth0) Calls(method string) map[string]int {
	n := map[string]int{}
	for _, r := range f.Requests() {
		if r.Method == method && r.Status == http.StatusOK {
			n[r.UserID]++
		}
	}
	return n
}
