// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/dedupe"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

func TestLogStreamContentFormats(t *testing.T) {
	lines := auth0test.Sample(auth0test.LogStreamLines)
	tests := []struct {
		name        string
		body        []byte
		contentType string
		encoding    string
		want        int
	}{
		{"json lines", lines, "application/x-ndjson", "", 5},
		{"json array", auth0test.Sample(auth0test.LogStreamArray), "application/json", "", 5},
		{"json object", auth0test.Sample(auth0test.LogStreamObject), "application/json; charset=utf-8", "", 1},
		{"gzip json lines", gzipped(t, lines), "application/json", "gzip", 5},
		{"bare events", auth0test.Sample(auth0test.LogAPIBare), "", "", 2},
		{"text/plain", lines, "text/plain", "", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := new(consumertest.LogsSink)
			h := startReceiver(t, sink)
			r := h.post("/auth0/logs", tt.body, "Content-Type", tt.contentType, "Content-Encoding", tt.encoding)
			require.Equal(t, http.StatusOK, r.status, r.body)
			assert.Equal(t, summaryOf(tt.want, 0, 0, 0), r.body)
			require.Equal(t, tt.want, sink.LogRecordCount())

			logs := sink.AllLogs()[0]
			scope := logs.ResourceLogs().At(0).ScopeLogs().At(0).Scope()
			assert.Equal(t, metadata.ScopeName, scope.Name())
			for _, lr := range allRecords(sink) {
				src, _ := lr.Attributes().Get(auth0event.AttrSource)
				assert.Equal(t, "log_stream", src.Str())
				assert.NotZero(t, lr.ObservedTimestamp())
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink)
	body := auth0test.Sample(auth0test.LogStreamObject)
	for header, want := range map[string]int{
		testSecret:                     http.StatusOK,
		"Bearer " + testSecret:         http.StatusOK,
		"bearer  " + testSecret:        http.StatusOK,
		"":                             http.StatusUnauthorized,
		"Bearer":                       http.StatusUnauthorized,
		"Bearer wrong":                 http.StatusUnauthorized,
		testSecret[:len(testSecret)-1]: http.StatusUnauthorized,
		testSecret + "x":               http.StatusUnauthorized,
		"Basic " + testSecret:          http.StatusUnauthorized,
	} {
		r := h.post("/auth0/logs", body, "Authorization", header)
		assert.Equal(t, want, r.status, "Authorization: %q", header)
		if want == http.StatusUnauthorized {
			assert.Contains(t, r.body["error"], "missing or wrong Authorization header")
			assert.NotContains(t, r.body["error"], testSecret)
			assert.Equal(t, `Bearer realm="auth0login"`, r.header.Get("WWW-Authenticate"))
		}
	}
	// The three accepted requests carried the same record: dedupe let one through.
	assert.Equal(t, 1, sink.LogRecordCount())
	r := h.post("/auth0/actions", auth0test.Sample(auth0test.Action), "Authorization", "nope")
	assert.Equal(t, http.StatusUnauthorized, r.status)

	metadatatest.AssertEqualReceiverAuth0loginRequestsRejected(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs"), attribute.String("reason", "unauthorized")), Value: 6},
		{Attributes: attribute.NewSet(attribute.String("endpoint", "actions"), attribute.String("reason", "unauthorized")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestRefusedRequests(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.ServerConfig.MaxRequestBodySize = 64 << 10 })
	body := auth0test.Sample(auth0test.LogStreamLines)
	big := bytes.Repeat([]byte(`{"log_id":"x","data":{"type":"s","pad":"`+strings.Repeat("a", 1000)+`"}}`+"\n"), 100)
	bomb := bomb(t, codingGzip, ' ', 50)

	tests := []struct {
		name    string
		method  string
		body    []byte
		headers []string
		status  int
		msg     string
	}{
		{"GET", http.MethodGet, nil, nil, http.StatusMethodNotAllowed, "method GET is not allowed"},
		{"PUT", http.MethodPut, body, nil, http.StatusMethodNotAllowed, "method PUT is not allowed"},
		{"xml", http.MethodPost, body, []string{"Content-Type", "application/xml"}, http.StatusUnsupportedMediaType, `unsupported Content-Type "application/xml"`},
		{"form", http.MethodPost, body, []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "unsupported Content-Type"},
		{"brotli", http.MethodPost, body, []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType, `unsupported Content-Encoding "br": send the body uncompressed or compressed once with gzip (compression_algorithms)`},
		{"not gzip", http.MethodPost, body, []string{"Content-Encoding", "gzip"}, http.StatusBadRequest, "gzip: invalid header"},
		{"too large", http.MethodPost, big, nil, http.StatusRequestEntityTooLarge, "larger than max_request_body_size (65536 bytes"},
		{"gzip bomb", http.MethodPost, bomb, []string{"Content-Encoding", "gzip"}, http.StatusRequestEntityTooLarge, "counted after decompression"},
		{"empty", http.MethodPost, nil, nil, http.StatusBadRequest, "request body is empty"},
		{"blank", http.MethodPost, []byte("  \n "), nil, http.StatusBadRequest, "request body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, "/auth0/logs", tt.body, tt.headers...)
			assert.Equal(t, tt.status, r.status)
			assert.Contains(t, r.body["error"], tt.msg)
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", r.header.Get("Allow"))
			}
		})
	}
	assert.Zero(t, sink.LogRecordCount())
	// The server still serves after all that.
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", body).status)
}

func TestMalformedRecordsDoNotCostTheValidOnes(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink)
	valid := strings.Split(strings.TrimSpace(string(auth0test.Sample(auth0test.LogStreamLines))), "\n")
	body := strings.Join([]string{valid[0], `{"log_id":"broken","data":{"type":"s"`, valid[1], `not json`, `[1,2]`, valid[2]}, "\n")

	r := h.post("/auth0/logs", []byte(body))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, float64(3), r.body["accepted"])
	// `[1,2]` is an array of two records, both of the wrong type.
	assert.Equal(t, float64(4), r.body["rejected"])
	errs := r.body["errors"].([]any)
	require.Len(t, errs, 4)
	first := errs[0].(map[string]any)
	assert.Equal(t, float64(2), first["record"])
	assert.Equal(t, float64(3), first["line"], "the truncated record is noticed where the next one starts")
	assert.Contains(t, first["error"], "invalid JSON")
	assert.Equal(t, 3, sink.LogRecordCount())

	// Nothing valid at all: 400, with the reasons.
	r = h.post("/auth0/logs", []byte("{\"log_id\":\n42\n"))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, float64(0), r.body["accepted"])
	assert.Len(t, r.body["errors"], 2)

	metadatatest.AssertEqualReceiverAuth0loginRecordsMalformed(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs")), Value: 6},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestErrorListIsCapped(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop())
	r := h.post("/auth0/logs", bytes.Repeat([]byte("oops\n"), 500))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, float64(500), r.body["rejected"])
	assert.Len(t, r.body["errors"], auth0event.MaxListedErrors)
}

func TestConsumerErrors(t *testing.T) {
	body := auth0test.Sample(auth0test.LogStreamLines)

	t.Run("retryable", func(t *testing.T) {
		next := &switchableConsumer{err: errors.New("sending queue is full")}
		h := startReceiver(t, next)
		r := h.post("/auth0/logs", body)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "5", r.header.Get("Retry-After"))
		assert.Contains(t, r.body["error"], "retry later: sending queue is full")

		// Auth0 retries the same batch: it must not be dropped as a duplicate.
		next.err = nil
		r = h.post("/auth0/logs", body)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, summaryOf(5, 0, 0, 0), r.body)
		assert.Equal(t, 5, next.sink.LogRecordCount())
	})
	t.Run("permanent", func(t *testing.T) {
		h := startReceiver(t, &switchableConsumer{err: consumererror.NewPermanent(errors.New("bad data"))})
		r := h.post("/auth0/logs", body)
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Contains(t, r.body["error"], "refused the records permanently")
		assert.Empty(t, r.header.Get("Retry-After"))
	})
	t.Run("retry_after is configurable", func(t *testing.T) {
		h := startReceiver(t, &switchableConsumer{err: errors.New("busy")}, func(c *Config) { c.RetryAfter = 42 * time.Second })
		assert.Equal(t, "42", h.post("/auth0/actions", auth0test.Sample(auth0test.Action)).header.Get("Retry-After"))
	})
}

type switchableConsumer struct {
	err  error
	sink consumertest.LogsSink
}

func (c *switchableConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *switchableConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if c.err != nil {
		return c.err
	}
	return c.sink.ConsumeLogs(ctx, ld)
}

func TestDeduplication(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink)
	lines := auth0test.Sample(auth0test.LogStreamLines)

	assert.Equal(t, summaryOf(5, 0, 0, 0), h.post("/auth0/logs", lines).body)
	// Auth0 redelivers the batch, in another format.
	assert.Equal(t, summaryOf(0, 5, 0, 0), h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamArray)).body)
	// A duplicate inside one request.
	first := strings.SplitN(string(lines), "\n", 2)[0]
	fresh := strings.ReplaceAll(first, "000000000000000000000000000001", "000000000000000000000000000099")
	assert.Equal(t, summaryOf(1, 1, 0, 0), h.post("/auth0/logs", []byte(fresh+"\n"+fresh)).body)
	assert.Equal(t, 6, sink.LogRecordCount())

	// The Action's event id is deduplicated the same way.
	action := auth0test.Sample(auth0test.Action)
	assert.Equal(t, summaryOf(1, 0, 0, 0), h.post("/auth0/actions", action).body)
	assert.Equal(t, summaryOf(0, 1, 0, 0), h.post("/auth0/actions", action).body)

	metadatatest.AssertEqualReceiverAuth0loginRecordsDuplicate(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs")), Value: 6},
		{Attributes: attribute.NewSet(attribute.String("endpoint", "actions")), Value: 1},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualReceiverAuth0loginDedupeEntries(t, h.tel, []metricdata.DataPoint[int64]{{Value: 7}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestDedupeOff(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.Dedupe.Window = 0 })
	body := auth0test.Sample(auth0test.LogStreamObject)
	h.post("/auth0/logs", body)
	h.post("/auth0/logs", body)
	assert.Equal(t, 2, sink.LogRecordCount())
}

func TestActionEndpoint(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink)
	r := h.post("/auth0/actions", auth0test.Sample(auth0test.Action), "Authorization", "Bearer "+testSecret)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, summaryOf(1, 0, 0, 0), r.body)
	lr := allRecords(sink)[0]
	view := auth0event.NewView(lr.Attributes(), lr.Body())
	assert.Equal(t, auth0event.SourceAction, view.Source())
	assert.Equal(t, "auth0|6182f1a9c3d4e5f60718293a", view.Str(auth0event.AttrUserID))
	assert.Equal(t, "oidc-basic-profile", view.Str(auth0event.AttrProtocol))

	r = h.post("/auth0/actions", []byte(`{"schema_version":9,"user":{}}`))
	assert.Equal(t, http.StatusBadRequest, r.status)
	errs := r.body["errors"].([]any)
	msg := errs[0].(map[string]any)["error"].(string)
	assert.Contains(t, msg, `unsupported "schema_version" 9`)
	assert.Contains(t, msg, `"event_id" must be a non-empty string`)
	assert.Contains(t, msg, `"user.user_id" must be a non-empty string`)

	// The log stream's batch shape is not an Action payload.
	r = h.post("/auth0/actions", auth0test.Sample(auth0test.LogStreamLines))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, 1, sink.LogRecordCount())
}

// TestAcceptedContentType: whatever names JSON is accepted, with any
// parameters and casing; other media types are not.
func TestAcceptedContentType(t *testing.T) {
	for _, ct := range []string{
		"", "application/json", "Application/JSON; charset=utf-8", " text/plain ", "text/json",
		"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
		"application/json-lines", "application/vnd.auth0+json", "application/problem+json; charset=utf-8",
	} {
		assert.True(t, acceptedContentType(ct), "Content-Type %q", ct)
	}
	for _, ct := range []string{
		"application/xml", "text/html", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
		"application/json-seq", "text/vnd.a+json", "+json", "application/octet-stream",
	} {
		assert.False(t, acceptedContentType(ct), "Content-Type %q", ct)
	}
}

// TestDedupeView: an id seen earlier in the same request is a duplicate,
// whether the request is small enough to scan or large enough for an
// index; the window learns a request's ids only when it commits them.
func TestDedupeView(t *testing.T) {
	window := dedupe.New(time.Hour, 100_000)
	for _, n := range []int{3, scanLimit, scanLimit + 1, 10 * scanLimit} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("request-of-%d-record-%d", n, i)
		}
		d := dedupeView{window: window}
		for _, id := range ids {
			assert.False(t, d.duplicate(id), "%d records: %s seen once", n, id)
		}
		for _, id := range ids {
			assert.True(t, d.duplicate(id), "%d records: %s seen twice", n, id)
		}
		assert.False(t, window.Contains(window.Hash(ids[0])), "%d records: the window learns nothing before commit", n)
		d.commit()
		later := dedupeView{window: window}
		for _, id := range ids {
			assert.True(t, later.duplicate(id), "%d records: %s delivered by an earlier request", n, id)
		}
	}

	// Without a window (dedupe off), or without an id, nothing is a duplicate.
	off := dedupeView{}
	assert.False(t, off.duplicate("a"))
	assert.False(t, off.duplicate("a"))
	d := dedupeView{window: window}
	assert.False(t, d.duplicate(""))
	assert.False(t, d.duplicate(""))
}
