// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"
)

func TestCodingNames(t *testing.T) {
	c := newCodings([]string{" GZIP ", "zstd", "", "identity", "zstd"})
	assert.Len(t, c.accepted, 2)
	for header, want := range map[string]string{
		"":                "",
		"identity":        "",
		" identity ,  ":   "",
		"gzip":            codingGzip,
		"x-gzip":          codingGzip,
		"Gzip":            codingGzip,
		"identity, zstd ": codingZstd,
		"\tzstd\t":        codingZstd,
	} {
		hdr := http.Header{}
		hdr.Set("Content-Encoding", header)
		got, _, err := c.of(hdr)
		require.NoError(t, err, header)
		assert.Equal(t, want, got, header)
	}
	for _, header := range [][]string{{"gzip, gzip"}, {"gzip", "zstd"}, {"br"}, {"snappy"}, {"deflate"}, {"gzip;q=1"}} {
		_, _, err := c.of(http.Header{"Content-Encoding": header})
		var ce *codingError
		assert.ErrorAs(t, err, &ce, header)
	}
	assert.True(t, slices.IsSorted(supportedCodings()))
	assert.NoError(t, validateCodings([]string{"", "identity", "GZIP", "x-snappy-framed", "lz4", "deflate", "zlib", "snappy", "zstd"}))
	assert.ErrorContains(t, validateCodings([]string{"gzip", "br", "x-gzip2"}), `"compression_algorithms" has "br"`)
}

// TestDeflateBothWays: "deflate" is zlib's format, but raw deflate streams
// sent under that name are read too.
func TestDeflateBothWays(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.ServerConfig.CompressionAlgorithms = []string{codingDeflate} })
	for i, coding := range []string{codingZlib, "raw-deflate"} {
		id := fmt.Sprintf("deflate-%d", i)
		r := h.post("/auth0/logs", encode(t, coding, auth0test.Lines(auth0test.Event{LogID: id})), "Content-Encoding", codingDeflate)
		assert.Equal(t, http.StatusOK, r.status, coding)
	}
	assert.Equal(t, []string{"deflate-0", "deflate-1"}, logIDs(sink))
}

// TestEveryCodingDelivers: each coding, once configured, decodes a normal
// batch (snappy in both of its formats).
func TestEveryCodingDelivers(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, withAllCodings)
	var want []string
	for _, coding := range append(supportedCodings(), "x-gzip") {
		id := "coding-" + coding
		want = append(want, id)
		r := h.post("/auth0/logs", encode(t, coding, auth0test.Lines(auth0test.Event{LogID: id})), "Content-Encoding", coding)
		assert.Equal(t, http.StatusOK, r.status, coding)
	}
	framed := encode(t, codingSnappyFramed, auth0test.Lines(auth0test.Event{LogID: "snappy-framed-as-snappy"}))
	assert.Equal(t, http.StatusOK, h.post("/auth0/logs", framed, "Content-Encoding", codingSnappy).status)
	want = append(want, "snappy-framed-as-snappy")
	assert.Equal(t, want, logIDs(sink))
}

// TestLZ4GuardKeepsFrames: the guard against legacy magic runs lets
// ordinary lz4 frames, concatenated ones too, through.
func TestLZ4GuardKeepsFrames(t *testing.T) {
	a := encode(t, codingLZ4, []byte("first frame "))
	b := encode(t, codingLZ4, bytes.Repeat([]byte("second frame "), 100000))
	rc, err := openLZ4(bytes.NewReader(append(a, b...)), 1<<30)
	require.NoError(t, err)
	out, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "first frame "+strings.Repeat("second frame ", 100000), string(out))

	var legacy bytes.Buffer
	binary.Write(&legacy, binary.LittleEndian, uint32(0x184C2102)) //nolint:errcheck // bytes.Buffer
	rc, err = openLZ4(bytes.NewReader(append(legacy.Bytes(), hostile.LZ4LegacyRun(1000)...)), 1<<30)
	require.NoError(t, err)
	_, err = io.ReadAll(rc)
	assert.ErrorIs(t, err, errLZ4LegacyRun)
}
