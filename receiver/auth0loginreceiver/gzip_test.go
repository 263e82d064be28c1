// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestGzipReadersReused: readers kept between requests must not carry one
// request's state into the next: concurrent gzip requests, among them
// broken ones, each decode to exactly their own records.
func TestGzipReadersReused(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.MaxConcurrentRequests = 64 })

	const senders, requests, perRequest = 8, 20, 10
	var wg sync.WaitGroup
	want := map[string]bool{}
	var mu sync.Mutex
	for s := range senders {
		wg.Go(func() {
			for r := range requests {
				events := make([]auth0test.Event, perRequest)
				for i := range events {
					events[i] = auth0test.Event{LogID: fmt.Sprintf("900202611200%02d%03d%03d", s, r, i)}
				}
				body := gzipped(t, auth0test.Lines(events...))
				if r%5 == 4 {
					// A stream cut short: a read error for this request alone.
					reply := h.post("/auth0/logs", body[:len(body)/2], "Content-Encoding", "gzip")
					assert.Equal(t, http.StatusBadRequest, reply.status)
					continue
				}
				reply := h.post("/auth0/logs", body, "Content-Encoding", "gzip")
				if assert.Equal(t, http.StatusOK, reply.status, reply.body) {
					mu.Lock()
					for _, e := range events {
						want[e.LogID] = true
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	got := map[string]bool{}
	for _, id := range logIDs(sink) {
		assert.False(t, got[id], "record %s delivered twice", id)
		got[id] = true
	}
	assert.Equal(t, want, got)
}

// TestGzipReaderAllocation: a reader is taken from the pool, not built
// again (about 40 KB each) for every request.
func TestGzipReaderAllocation(t *testing.T) {
	body := gzipped(t, auth0test.Lines(auth0test.Event{}))
	decodeOnce := func() {
		rc, err := openGzip(bytes.NewReader(body), 1<<20)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
	decodeOnce()
	const runs = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		decodeOnce()
	}
	runtime.ReadMemStats(&after)
	// The race detector's sync.Pool drops a quarter of what is put back,
	// so with it about 10 KB a run; without the pool, over 40 KB.
	assert.Less(t, (after.TotalAlloc-before.TotalAlloc)/runs, uint64(20<<10), "bytes allocated per decoded request")
}

// TestGzipOnlyWhereConfigured: the pooled decoder does not bring back gzip
// where compression_algorithms leaves it out.
func TestGzipOnlyWhereConfigured(t *testing.T) {
	h := startReceiver(t, new(consumertest.LogsSink), func(c *Config) { c.ServerConfig.CompressionAlgorithms = []string{""} })
	body := gzipped(t, auth0test.Lines(auth0test.Event{}))
	reply := h.post("/auth0/logs", body, "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusUnsupportedMediaType, reply.status)
	assert.Contains(t, fmt.Sprint(reply.body), `unsupported Content-Encoding "gzip": send the body uncompressed (compression_algorithms accepts no compression)`)
}
