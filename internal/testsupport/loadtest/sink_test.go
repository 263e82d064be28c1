// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends body to the sink's server, gzipped when asked.
func post(t *testing.T, url, body string, gz bool) *http.Response {
	t.Helper()
	var b bytes.Buffer
	if gz {
		zw := gzip.NewWriter(&b)
		_, err := zw.Write([]byte(body))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	} else {
		b.WriteString(body)
	}
	req, err := http.NewRequest(http.MethodPost, url, &b)
	require.NoError(t, err)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// The sink counts events by id, finds lost and duplicated ones, follows
// SignUps per user (the user a field or in the Rule's object), and counts
// bytes as Splunk would parse them and as they came.
func TestSinkCountsWhatArrives(t *testing.T) {
	sink := NewSink()
	sink.DecodeEvents, sink.KeepEvents = true, true
	srv := httptest.NewServer(sink)
	defer srv.Close()

	login := `{"event":"x","fields":{"auth0.log_id":"a","auth0.event":"Login","user.id":"u1"}}`
	signup := `{"event":"x","fields":{"auth0.log_id":"b","auth0.event":"SignUp","user.id":"u1"}}`
	rule := `{"event":{"userId":"u2"},"fields":{"auth0.log_id":"c","auth0.event":"SignUp"}}`
	assert.Equal(t, http.StatusOK, post(t, srv.URL, login+signup, false).StatusCode)
	body := rule + strings.Repeat(" ", 1000) + signup
	assert.Equal(t, http.StatusOK, post(t, srv.URL, body, true).StatusCode)

	assert.Equal(t, int64(4), sink.Events())
	assert.Equal(t, int64(2), sink.Requests())
	assert.Equal(t, 2, sink.Count("b"))
	assert.Equal(t, map[string]int{"u1": 2, "u2": 1}, sink.SignUps())
	assert.Equal(t, map[string]map[string]int{"u1": {"b": 2}, "u2": {"c": 1}}, sink.SignUpRecords())
	assert.Len(t, sink.Kept(), 4)
	raw, wire := sink.Bytes()
	assert.Equal(t, int64(len(login+signup)+len(body)), raw)
	assert.Less(t, wire, raw, "the second request came gzipped")

	acked := NewIDSet()
	for _, id := range []string{"a", "b", "c", "d"} {
		acked.Add(id)
	}
	lost, duplicates, unique := sink.Check(acked)
	assert.Equal(t, []string{"d"}, lost)
	assert.Equal(t, 1, duplicates)
	assert.Equal(t, 3, unique)
}

// An outage answers every request with its status and Retry-After, and
// counts nothing but the request; a body that is not HEC JSON is a 400.
func TestSinkFaultsAndBadBodies(t *testing.T) {
	sink := NewSink()
	sink.DecodeEvents = true
	srv := httptest.NewServer(sink)
	defer srv.Close()
	event := `{"event":"x","fields":{"auth0.log_id":"a"}}`

	sink.SetFault(&Fault{Status: http.StatusServiceUnavailable, RetryAfter: 7})
	resp := post(t, srv.URL, event, false)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	sink.SetFault(&Fault{Status: http.StatusTooManyRequests})
	resp = post(t, srv.URL, event, false)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Retry-After"))
	sink.SetFault(nil)

	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(event))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "not gzip")
	assert.Equal(t, http.StatusBadRequest, post(t, srv.URL, `{"event":`, false).StatusCode, "not JSON")

	assert.Zero(t, sink.Events())
	assert.Equal(t, int64(4), sink.Requests())
	assert.Equal(t, http.StatusOK, post(t, srv.URL, event, false).StatusCode)
	assert.Equal(t, 1, sink.Count("a"))
}
