// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"
)

// zstdFrameWithWindow is a zstd frame that asks for a window of
// 2^windowLog bytes and decodes to 128 KiB of one byte (one RLE block).
func zstdFrameWithWindow(windowLog int) []byte {
	header := uint32(1)<<1 | uint32(128<<10)<<3 | 1 // RLE, 128 KiB, last block
	return []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte(windowLog-10) << 3, byte(header), byte(header >> 8), byte(header >> 16), ' '}
}

// confighttpDecoded is confighttp's answer, or, when it let the request
// through, what the handler behind it read of the decoded body: how many
// bytes, and the read error; alloc is what the process allocated meanwhile.
type confighttpDecoded struct {
	status int
	answer string
	read   int64
	err    string
	alloc  uint64
}

// startConfighttpDecoding serves, on a loopback port, a server that
// confighttp builds with its own decoders (its default
// compression_algorithms) and the receiver's body limit, whose handler
// reads the whole decoded body.
func startConfighttpDecoding(t *testing.T) func(body []byte, codings ...string) confighttpDecoded {
	sc := confighttp.NewDefaultServerConfig()
	sc.MaxRequestBodySize = defaultMaxRequestBodySize
	server, err := sc.ToServer(context.Background(), nil, componenttest.NewNopTelemetrySettings(),
		http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			n, err := io.Copy(io.Discard, req.Body)
			out := map[string]any{"read": n}
			if err != nil {
				out["err"] = err.Error()
			}
			w.WriteHeader(http.StatusOK)
			_ = json.NewEncoder(w).Encode(out)
		}))
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(func() { require.NoError(t, server.Close()) })

	return func(body []byte, codings ...string) confighttpDecoded {
		req, err := http.NewRequest(http.MethodPost, "http://"+listener.Addr().String()+"/", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header["Content-Encoding"] = codings
		before := allocated()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		d := confighttpDecoded{status: resp.StatusCode, answer: string(raw), alloc: allocated() - before}
		if resp.StatusCode == http.StatusOK {
			var out struct {
				Read int64  `json:"read"`
				Err  string `json:"err"`
			}
			require.NoError(t, json.Unmarshal(raw, &out))
			d.read, d.err = out.Read, out.Err
		}
		return d
	}
}

// TestConfighttpDecodersFallShort is why the receiver decodes bodies
// itself, after its secret, and gives confighttp no coding
// (docs/design.md, "Request decompression"). Each request below is sent,
// with the secret, to the receiver with every coding configured, and to a
// server built by confighttp with its own decoders. The receiver bounds
// and names what confighttp lets through or answers with one 400; should
// confighttp come to answer one of them as the receiver does, this test
// fails, and the choice is to be weighed again.
func TestConfighttpDecodersFallShort(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop(), withAllCodings)
	viaConfighttp := startConfighttpDecoding(t)
	plain := auth0test.Lines(auth0test.Event{})

	t.Run("a zstd window beyond the receiver's bound", func(t *testing.T) {
		frame := zstdFrameWithWindow(24) // 16 MiB: zstd's own default bound is 512 MiB
		r := h.post("/auth0/logs", frame, "Content-Encoding", codingZstd)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
		assert.Contains(t, r.body["error"], "the zstd frame asks for a window larger than the receiver keeps")

		d := viaConfighttp(frame, codingZstd)
		assert.Equal(t, http.StatusOK, d.status, d.answer)
		assert.Equal(t, int64(128<<10), d.read, "confighttp's zstd decodes the frame")
		assert.Greater(t, d.alloc, uint64(16<<20), "confighttp's zstd allocates the window the frame asks for")
	})

	t.Run("a run of lz4 legacy frame starts", func(t *testing.T) {
		run := hostile.LZ4LegacyRun(4096)
		r := h.post("/auth0/logs", run, "Content-Encoding", codingLZ4)
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Contains(t, r.body["error"], "legacy frame markers repeated without data")

		// Its lz4 reader recurses once for each 4 bytes, and ends with an
		// empty body, without an error.
		d := viaConfighttp(run, codingLZ4)
		assert.Equal(t, http.StatusOK, d.status, d.answer)
		assert.Zero(t, d.read)
		assert.Empty(t, d.err)
	})

	t.Run("a snappy block declaring 4 GiB", func(t *testing.T) {
		r := h.post("/auth0/logs", hostile.SnappyClaims4GiB, "Content-Encoding", codingSnappy)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
		assert.Contains(t, r.body["error"], "larger than max_request_body_size")

		d := viaConfighttp(hostile.SnappyClaims4GiB, codingSnappy)
		assert.Equal(t, http.StatusBadRequest, d.status, "confighttp answers every decoder's failure 400: %s", d.answer)
	})

	// confighttp looks the first Content-Encoding line up as it is, and
	// answers 400 for a name it does not hold, as for a broken body.
	for _, c := range []struct {
		coding string
		body   []byte
		status int
	}{
		{"GZIP", encode(t, codingGzip, plain), http.StatusOK},
		{"x-gzip", encode(t, codingGzip, plain), http.StatusOK},
		{"identity", plain, http.StatusOK},
		{"gzip, gzip", encode(t, codingGzip, encode(t, codingGzip, plain)), http.StatusUnsupportedMediaType},
		{"br", encode(t, "br", plain), http.StatusUnsupportedMediaType},
	} {
		t.Run("Content-Encoding "+c.coding, func(t *testing.T) {
			r := h.post("/auth0/logs", c.body, "Content-Encoding", c.coding)
			assert.Equal(t, c.status, r.status, r.body)

			d := viaConfighttp(c.body, c.coding)
			assert.Equal(t, http.StatusBadRequest, d.status, d.answer)
			assert.Contains(t, d.answer, "unsupported Content-Encoding: "+c.coding)
		})
	}

	t.Run("raw deflate sent as deflate", func(t *testing.T) {
		raw := encode(t, "raw-deflate", plain)
		r := h.post("/auth0/logs", raw, "Content-Encoding", codingDeflate)
		assert.Equal(t, http.StatusOK, r.status, r.body)

		d := viaConfighttp(raw, codingDeflate)
		assert.Equal(t, http.StatusBadRequest, d.status, d.answer)
		assert.Contains(t, d.answer, "zlib: invalid header")
	})

	t.Run("a second Content-Encoding line", func(t *testing.T) {
		twice := encode(t, codingGzip, encode(t, codingGzip, plain))
		req, err := http.NewRequest(http.MethodPost, h.base+"/auth0/logs", bytes.NewReader(twice))
		require.NoError(t, err)
		req.Header.Set("Authorization", testSecret)
		req.Header.Add("Content-Encoding", codingGzip)
		req.Header.Add("Content-Encoding", codingGzip)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)

		// confighttp decodes once, drops the header, and hands on a body
		// that is still gzip as if it were the records.
		d := viaConfighttp(twice, codingGzip, codingGzip)
		assert.Equal(t, http.StatusOK, d.status, d.answer)
		assert.Empty(t, d.err)
		once := encode(t, codingGzip, plain)
		assert.Equal(t, int64(len(once)), d.read)
	})
	assertAdmissionFree(t, h)
}
