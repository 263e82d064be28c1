// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

// BenchmarkHandleLogStream is the receiver's work on one 100-record batch
// (authentication, parsing, mapping, dedupe, metrics), without the network.
func BenchmarkHandleLogStream(b *testing.B) {
	cfg := createDefaultConfig().(*Config)
	cfg.Secret = testSecret
	rcv, err := newReceiver(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	handler := rcv.endpoint(endpointLogs, rcv.handleLogStream)
	batches := make([][]byte, 64)
	for i := range batches {
		var events []auth0test.Event
		for j := range 100 {
			events = append(events, auth0test.Event{LogID: fmt.Sprintf("%d-%d", i, j), LoginsCount: 3})
		}
		batches[i] = auth0test.Lines(events...)
	}
	b.SetBytes(int64(len(batches[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Dedupe off in effect: the batches repeat, ids would be duplicates.
		rcv.seen = nil
		req := httptest.NewRequest(http.MethodPost, "/auth0/logs", bytes.NewReader(batches[i%len(batches)]))
		req.Header.Set("Authorization", testSecret)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
		i++
	}
}

// BenchmarkGzipDecode is the decompression of one gzip 100-record batch
// with the receiver's pooled readers, and with a new reader per request as
// confighttp's own gzip decoder does (the baseline, same run).
func BenchmarkGzipDecode(b *testing.B) {
	var events []auth0test.Event
	for j := range 100 {
		events = append(events, auth0test.Event{LogID: fmt.Sprintf("gz-%d", j), LoginsCount: 3})
	}
	body := gzipped(&testing.T{}, auth0test.Lines(events...))
	for _, c := range []struct {
		name   string
		decode func(io.Reader, int64) (io.ReadCloser, error)
	}{
		{"pooled", openGzip},
		{"new_reader", func(r io.Reader, _ int64) (io.ReadCloser, error) { return gzip.NewReader(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rc, err := c.decode(bytes.NewReader(body), 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				if err := rc.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
