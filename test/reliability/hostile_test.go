// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build reliability

package reliability

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// line is one valid log stream record with a given id.
func line(id string) string {
	return string(auth0test.Event{LogID: id, LoginsCount: 3}.JSON())
}

// TestHostileInputs posts bad and hostile payloads to the running
// collector, each between valid records where a payload can hold them:
// each gets its documented status and message, nothing crashes, the valid
// records around it reach HEC, memory stays bounded.
func TestHostileInputs(t *testing.T) {
	sink := startSink(t)
	c := start(t, collectorOptions{storage: t.TempDir(), hec: sink.URL()})
	url := "http://" + c.Receiver + "/auth0/logs"

	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	hugeField := `{"log_id":"huge-field","data":{"type":"s","pad":"` + strings.Repeat("x", 3<<20) + `"}}`
	tests := []struct {
		name     string
		body     []byte
		headers  map[string]string
		status   int
		contains string
		valid    []string // ids that must reach HEC
	}{
		{"invalid JSON between valid lines", []byte(line("h1a") + "\n{not json}\n" + line("h1b")), nil, 200, `"rejected":1`, []string{"h1a", "h1b"}},
		{"truncated line", []byte(line("h2a") + "\n" + line("h2x")[:200] + "\n" + line("h2b")), nil, 200, "invalid JSON", []string{"h2a", "h2b"}},
		{"wrong JSON types in known fields", []byte(`{"log_id":"h3","data":{"type":["s"],"user_id":42,"date":false,"details":"x"}}`), nil, 200, `"accepted":1`, []string{"h3"}},
		{"100 MB body", bytes.Repeat([]byte(line("h4")+"\n"), 100<<20/1000), nil, 413, "larger than max_request_body_size", nil},
		{"deeply nested JSON", []byte(line("h5a") + "\n" + `{"log_id":"h5x","data":` + deep + "}\n" + line("h5b")), nil, 200, "nesting deeper than 64 levels", []string{"h5a", "h5b"}},
		{"invalid UTF-8", []byte(line("h6a") + "\n" + `{"log_id":"h6","data":{"type":"s","user_name":"bad ` + "\xff\xfe" + ` bytes"}}` + "\n"), nil, 200, `"accepted":2`, []string{"h6a", "h6"}},
		{"huge single field", []byte(line("h7a") + "\n" + hugeField + "\n" + line("h7b")), nil, 200, "more than max_record_size", []string{"h7a", "h7b"}},
		{"missing log_id", []byte(`{"data":{"type":"s","user_id":"auth0|x","tag":"h8"}}` + "\n" + line("h8")), nil, 200, `record has no \"log_id\"`, []string{"h8"}},
		{"unknown type codes", []byte(`{"log_id":"h9","data":{"type":"zz_new_kind"}}`), nil, 200, `"accepted":1`, []string{"h9"}},
		{"empty body", nil, nil, 400, "request body is empty", nil},
		{"not JSON at all", []byte("<xml>nope</xml>"), nil, 400, "invalid JSON", nil},
		{"wrong content type", []byte(line("h10")), map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415, "unsupported Content-Type", nil},
		{"unsupported encoding", []byte(line("h11")), map[string]string{"Content-Encoding": "br"}, 415, "unsupported Content-Encoding", nil},
		{"corrupt gzip", []byte("\x1f\x8b\x08\x00garbage"), map[string]string{"Content-Encoding": "gzip"}, 400, "could not read the request body", nil},
		{"gzip bomb", gz(bytes.Repeat([]byte{' '}, 1<<30)), map[string]string{"Content-Encoding": "gzip"}, 413, "counted after decompression", nil},
	}
	s := loadtest.NewSender(url, "Bearer "+receiverSecret)
	var tried []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+receiverSecret)
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := s.Client.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, string(body))
			assert.Contains(t, string(body), tt.contains)
			assert.True(t, json.Valid(body), "answers are JSON")
			for _, id := range tt.valid {
				assert.Eventually(t, func() bool { return sink.Count(id) == 1 }, 30*time.Second, 100*time.Millisecond, "valid record %s must arrive", id)
			}
			assert.True(t, c.Running(), "the collector survived")
		})
		tried = append(tried, tt.name)
	}
	_, peak := c.Memory()
	report(t, map[string]any{"inputs_tried": len(tried), "peak_rss": mib(peak)})
	assert.Less(t, peak, int64(400<<20))
}

// TestSlowloris: connections that send their headers or body a byte at a
// time are cut off by the server's timeouts and do not stop others.
func TestSlowloris(t *testing.T) {
	sink := startSink(t)
	c := start(t, collectorOptions{storage: t.TempDir(), hec: sink.URL(), overlays: []string{
		"receivers::auth0login::read_header_timeout: 2s",
		"receivers::auth0login::read_timeout: 4s",
	}})
	const slow = 64
	var wg sync.WaitGroup
	closed := make(chan time.Duration, slow)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", c.Receiver)
			if err != nil {
				return
			}
			defer conn.Close()
			start := time.Now()
			// Half dribble their headers; half send the headers at once,
			// then dribble a declared body.
			msg := "POST /auth0/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + receiverSecret + "\r\n"
			if i%2 == 1 {
				if _, err := conn.Write([]byte(msg + "Content-Length: 100000\r\n\r\n")); err != nil {
					return
				}
				msg = line("slow")
			}
			for j := 0; j < len(msg)*100; j++ {
				if _, err := conn.Write([]byte{msg[j%len(msg)]}); err != nil {
					closed <- time.Since(start)
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	// Meanwhile, an ordinary batch goes through.
	s := c.sender()
	started := time.Now()
	r := s.Send(context.Background(), loadtest.Batch{Body: []byte(line("slow-ok")), IDs: []string{"slow-ok"}})
	normal := time.Since(started)
	assert.Equal(t, http.StatusOK, r.Status)
	wg.Wait()
	close(closed)
	var longest time.Duration
	n := 0
	for d := range closed {
		n++
		longest = max(longest, d)
	}
	report(t, map[string]any{"slow_connections": slow, "cut_off": n, "longest_seconds": round2(longest.Seconds()), "normal_request_ms": normal.Milliseconds()})
	assert.Equal(t, slow, n, "every slow connection was cut off")
	assert.Less(t, longest, 10*time.Second)
	assert.Less(t, normal, 2*time.Second)
}
