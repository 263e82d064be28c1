// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package fakeauth0

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tokenFor(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body["access_token"].(string)
}

func call(t *testing.T, method, u, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func TestRateLimitHeadersAnd429(t *testing.T) {
	fake := New("id", "secret", "")
	now := time.Unix(1_800_000_000, 0)
	fake.now = func() time.Time { return now }
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.AddUser("u", nil)
	fake.SetRateLimit(1, 2)
	tok := tokenFor(t, srv.URL)

	r1, _ := call(t, http.MethodGet, srv.URL+"/api/v2/users/u", tok, "")
	assert.Equal(t, http.StatusOK, r1.StatusCode)
	assert.Equal(t, "2", r1.Header.Get("X-Ratelimit-Limit"))
	assert.Equal(t, "1", r1.Header.Get("X-Ratelimit-Remaining"))
	r2, _ := call(t, http.MethodGet, srv.URL+"/api/v2/users/u", tok, "")
	assert.Equal(t, http.StatusOK, r2.StatusCode)
	r3, body := call(t, http.MethodGet, srv.URL+"/api/v2/users/u", tok, "")
	assert.Equal(t, http.StatusTooManyRequests, r3.StatusCode)
	assert.Equal(t, "0", r3.Header.Get("X-Ratelimit-Remaining"))
	assert.Equal(t, "1800000003", r3.Header.Get("X-Ratelimit-Reset"), "two tokens to refill at 1/s, rounded up")
	assert.Equal(t, float64(429), body["statusCode"])

	now = now.Add(time.Second)
	r4, _ := call(t, http.MethodGet, srv.URL+"/api/v2/users/u", tok, "")
	assert.Equal(t, http.StatusOK, r4.StatusCode, "refilled")
	assert.Len(t, fake.Requests(http.MethodGet, "/api/v2/users/"), 4)
}

func TestPatchMergesFirstLevel(t *testing.T) {
	fake := New("id", "secret", "")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.AddUser("auth0|1", map[string]any{"a": 1.0, "b": map[string]any{"x": 1.0}, "c": "keep"})
	tok := tokenFor(t, srv.URL)
	resp, user := call(t, http.MethodPatch, srv.URL+"/api/v2/users/auth0%7C1", tok, `{"app_metadata":{"a":null,"b":{"y":2},"signedUp":true}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	want := map[string]any{"b": map[string]any{"y": 2.0}, "c": "keep", "signedUp": true}
	assert.Equal(t, want, user["app_metadata"])
	assert.Equal(t, want, fake.AppMetadata("auth0|1"))

	resp, _ = call(t, http.MethodPatch, srv.URL+"/api/v2/users/nobody", tok, `{"app_metadata":{}}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = call(t, http.MethodGet, srv.URL+"/api/v2/users/auth0%7C1", "bogus", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestTokenRefusals(t *testing.T) {
	fake := New("id", "secret", "https://t.example/api/v2/")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	for _, form := range []url.Values{
		{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"nope"}, "audience": {"https://t.example/api/v2/"}},
		{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}, "audience": {"https://other/api/v2/"}},
		{"grant_type": {"password"}, "client_id": {"id"}, "client_secret": {"secret"}},
	} {
		resp, err := http.PostForm(srv.URL+"/oauth/token", form)
		require.NoError(t, err)
		resp.Body.Close()
		assert.GreaterOrEqual(t, resp.StatusCode, 400, form)
	}
}

func TestLogPaging(t *testing.T) {
	fake := New("id", "secret", "")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.AddLogs(map[string]any{"log_id": "003", "type": "s"}, map[string]any{"log_id": "001", "type": "s"}, map[string]any{"log_id": "002", "type": "f"})
	tok := tokenFor(t, srv.URL)
	page := func(q string) []string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v2/logs?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var logs []map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&logs))
		var ids []string
		for _, l := range logs {
			ids = append(ids, l["log_id"].(string))
		}
		return ids
	}
	assert.Equal(t, []string{"001", "002"}, page("from=&take=2"))
	assert.Equal(t, []string{"003"}, page("from=002&take=2"))
	assert.Empty(t, page("from=003&take=2"))
	assert.Equal(t, []string{"001"}, page("sort=date:1&per_page=1&page=0"))
	assert.Equal(t, []string{"003", "002"}, page("sort=date:-1&per_page=2"))
	fake.DropLogsBefore("002")
	assert.Equal(t, []string{"002", "003"}, page("from=&take=100"))
}

func TestAdminEndpoints(t *testing.T) {
	fake := New("id", "secret", "")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_fake/users/auth0%7C9", strings.NewReader(`{"signedUp":false}`))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, map[string]any{"signedUp": false}, fake.AppMetadata("auth0|9"))
	resp, err = http.Get(srv.URL + "/_fake/users/auth0%7C9")
	require.NoError(t, err)
	var md map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	resp.Body.Close()
	assert.Equal(t, map[string]any{"signedUp": false}, md)
}
