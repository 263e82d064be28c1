// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package localhec

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

const token = "11111111-2222-3333-4444-localhectest"

// syncBuffer is the file stand-in: writes and reads under one lock.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start serves a Handler on loopback and records every request body the
// client sent (decompressed), for comparison with what was written.
func start(t *testing.T, opts Options) (*httptest.Server, *syncBuffer, func() [][]byte) {
	t.Helper()
	out := new(syncBuffer)
	h, err := New(token, out, opts)
	require.NoError(t, err)
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if !assert.NoError(t, err) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		plain := body
		if r.Header.Get("Content-Encoding") == "gzip" {
			if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
				if b, err := io.ReadAll(zr); err == nil {
					plain = b
				}
			}
		}
		mu.Lock()
		bodies = append(bodies, plain)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, out, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), bodies...)
	}
}

func newExporter(t *testing.T, endpoint string, maxContentLength uint) func(plog.Logs) error {
	t.Helper()
	factory := splunkhecexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*splunkhecexporter.Config)
	cfg.ClientConfig.Endpoint = endpoint
	cfg.Token = configopaque.String(token)
	cfg.QueueSettings = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	cfg.Source, cfg.SourceType, cfg.Index = "auth0", "auth0_activity", "auth0"
	if maxContentLength > 0 {
		cfg.MaxContentLengthLogs = maxContentLength
	}
	exp, err := factory.CreateLogs(context.Background(), exportertest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return func(ld plog.Logs) error { return exp.ConsumeLogs(context.Background(), ld) }
}

func logs(n int, seed uint64) plog.Logs {
	rng := rand.New(rand.NewPCG(seed, 0))
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "collector-1")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lr := records.AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1795162405_120000000 + int64(i)*1_000_000))
		body := lr.Body().SetEmptyMap()
		body.PutStr("message", []string{"SignUp", "Login"}[i%2])
		body.PutStr("userName", randomString(rng))
		body.PutEmptyMap("nested").PutInt("n", int64(i))
		lr.Attributes().PutStr("auth0.event", "Login")
		lr.Attributes().PutStr("user.id", randomString(rng))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	return ld
}

// randomString mixes what JSON encoders treat specially: quotes,
// backslashes, control characters, HTML characters, non-ASCII, emoji.
func randomString(rng *rand.Rand) string {
	parts := []string{"a", "Z", " ", `"`, `\`, "\n", "\t", "\x01", "<", ">", "&", "é", "李", "😀", "}{", `"}{"time"`, "\u2028"}
	var b strings.Builder
	for range rng.IntN(20) {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

// The file holds, one per line, exactly the bytes of the HEC events the
// contrib splunk_hec exporter sent: its requests are JSON objects, back to
// back or one per line, and a JSON text holds no raw newline inside a
// value, so the lines joined are the request bodies (decompressed) joined
// without their newlines. Large batches are gzipped and split over requests.
func TestExporterEventsLandByteForByte(t *testing.T) {
	srv, out, bodies := start(t, Options{})
	send := newExporter(t, srv.URL+PathCollector, 4096)
	total := 0
	for i, n := range []int{1, 3, 40, 200} {
		require.NoError(t, send(logs(n, uint64(i))))
		total += n
	}

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, total)
	var sent []byte
	for _, b := range bodies() {
		sent = append(sent, bytes.ReplaceAll(b, []byte("\n"), nil)...)
	}
	assert.Equal(t, string(sent), strings.Join(lines, ""), "the file is what the exporter sent, byte for byte")
	assert.Greater(t, len(bodies()), 4, "the large batches were split over several requests")

	for _, line := range lines {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		for _, key := range []string{"time", "host", "source", "sourcetype", "index", "event", "fields"} {
			assert.Contains(t, ev, key, line)
		}
		assert.Equal(t, "auth0_activity", ev["sourcetype"])
		assert.Equal(t, "collector-1", ev["host"])
	}
}

// The exporter compresses requests over 1.5 KB: those must be read too.
func TestGzipRequests(t *testing.T) {
	srv, out, _ := start(t, Options{})
	body := gz(t, []byte(`{"event":"one"}{"event":"two"}`))
	status, answer := post(t, srv.URL+PathEvent, "Splunk "+token, "gzip", body)
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"text":"Success","code":0}`, answer)
	assert.Equal(t, "{\"event\":\"one\"}\n{\"event\":\"two\"}\n", out.String())
}

// Every refusal answers as HEC does and writes nothing.
func TestRefusals(t *testing.T) {
	srv, out, _ := start(t, Options{MaxBytes: 1024})
	auth := "Splunk " + token
	big := []byte(`{"event":"` + strings.Repeat("x", 2000) + `"}`)
	cases := []struct {
		name, path, auth, encoding string
		body                       []byte
		status                     int
		answer                     string
	}{
		{"no token", PathCollector, "", "", []byte(`{"event":"x"}`), 401, `{"text":"Token is required","code":2}`},
		{"not the Splunk scheme", PathCollector, "Bearer " + token, "", []byte(`{"event":"x"}`), 401, `{"text":"Invalid authorization","code":3}`},
		{"wrong token", PathCollector, "Splunk nope", "", []byte(`{"event":"x"}`), 403, `{"text":"Invalid token","code":4}`},
		{"empty body", PathCollector, auth, "", nil, 400, `{"text":"No data","code":5}`},
		{"whitespace only", PathCollector, auth, "", []byte(" \n "), 400, `{"text":"No data","code":5}`},
		{"not JSON", PathEvent, auth, "", []byte(`{"event":"a"}{event`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`},
		{"not an object", PathEvent, auth, "", []byte(`["event"]`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"no event", PathEvent, auth, "", []byte(`{"event":"a"}{"host":"h"}`), 400, `{"text":"Event field is required","code":12,"invalid-event-number":1}`},
		{"null event", PathEvent, auth, "", []byte(`{"event":null}`), 400, `{"text":"Event field is required","code":12,"invalid-event-number":0}`},
		{"blank event", PathEvent, auth, "", []byte(`{"event":""}`), 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`},
		{"nested field", PathEvent, auth, "", []byte(`{"event":"a","fields":{"f":{"g":1}}}`), 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`},
		{"nested array field", PathEvent, auth, "", []byte(`{"event":"a","fields":{"f":[[1]]}}`), 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`},
		{"time not a number", PathEvent, auth, "", []byte(`{"event":"a","time":"noon"}`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"index not a string", PathEvent, auth, "", []byte(`{"event":"a","index":1}`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"unknown encoding", PathEvent, auth, "br", []byte(`{"event":"a"}`), 415, ``},
		{"not gzip", PathEvent, auth, "gzip", []byte(`{"event":"a"}`), 400, ``},
		{"too large", PathEvent, auth, "", big, 413, `{"text":"Content too large (maximum is 1024 bytes)","code":6}`},
		{"too large once gunzipped", PathEvent, auth, "gzip", gz(t, big), 413, `{"text":"Content too large (maximum is 1024 bytes)","code":6}`},
		{"raw endpoint", "/services/collector/raw", auth, "", []byte("line"), 404, `{"text":"The requested URL was not found on this server.","code":404}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, answer := post(t, srv.URL+c.path, c.auth, c.encoding, c.body)
			assert.Equal(t, c.status, status, answer)
			if c.answer != "" {
				assert.JSONEq(t, c.answer, answer)
			} else {
				assert.Contains(t, answer, `"text":`)
			}
			assert.Empty(t, out.String(), "a refused request writes nothing")
		})
	}

	resp, err := http.Get(srv.URL + PathEvent)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestHealth(t *testing.T) {
	srv, _, _ := start(t, Options{})
	for _, path := range []string{PathHealth, PathHealth10} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.JSONEq(t, `{"text":"HEC is healthy","code":17}`, string(b))
	}
}

// Random events, laid out as any HEC client may (whitespace or nothing
// between objects, pretty-printed, gzipped or not), sent concurrently: each
// lands as one line holding the event, whitespace outside strings removed,
// and lines of concurrent requests never mix.
func TestRandomRequests(t *testing.T) {
	srv, out, _ := start(t, Options{})
	rng := rand.New(rand.NewPCG(17, 3))
	type request struct {
		body     []byte
		encoding string
		events   []string
	}
	var requests []request
	for range 60 {
		var req request
		var body bytes.Buffer
		for range 1 + rng.IntN(8) {
			ev := map[string]any{
				"event":  map[string]any{"message": randomString(rng), "n": rng.Float64()},
				"fields": map[string]any{"auth0.event": randomString(rng), "list": []any{"a", 1.5, true}},
				"time":   1795162405.12,
				"host":   randomString(rng),
			}
			var b []byte
			if rng.IntN(2) == 0 {
				b, _ = json.MarshalIndent(ev, "", "  ")
			} else {
				b, _ = json.Marshal(ev)
			}
			compact, _ := json.Marshal(ev)
			req.events = append(req.events, string(compact))
			body.Write(b)
			body.WriteString([]string{"", "\n", " \r\n\t"}[rng.IntN(3)])
		}
		req.body = body.Bytes()
		if rng.IntN(2) == 0 {
			req.body, req.encoding = gz(t, req.body), "gzip"
		}
		requests = append(requests, req)
	}

	var wg sync.WaitGroup
	for _, req := range requests {
		wg.Go(func() {
			status, answer := post(t, srv.URL+PathCollector, "Splunk "+token, req.encoding, req.body)
			assert.Equal(t, http.StatusOK, status, answer)
		})
	}
	wg.Wait()

	var want []string
	for _, req := range requests {
		want = append(want, req.events...)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.ElementsMatch(t, want, got)
	// The lines of one request stay together, in order.
	joined := out.String()
	for _, req := range requests {
		assert.Contains(t, joined, strings.Join(req.events, "\n")+"\n")
	}
}

func TestTokenRequired(t *testing.T) {
	_, err := New("", io.Discard, Options{})
	assert.Error(t, err)
}

func post(t *testing.T, url, auth, encoding string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func ExampleHandler() {
	var file bytes.Buffer
	h, _ := New("my-token", &file, Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+PathCollector,
		strings.NewReader(`{"time":1795162405.12,"host":"h","sourcetype":"auth0_activity","event":{"message":"Login"}}`))
	req.Header.Set("Authorization", "Splunk my-token")
	resp, _ := http.DefaultClient.Do(req)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(answer))
	fmt.Print(file.String())
	// Output:
	// 200 {"text":"Success","code":0}
	// {"time":1795162405.12,"host":"h","sourcetype":"auth0_activity","event":{"message":"Login"}}
}
