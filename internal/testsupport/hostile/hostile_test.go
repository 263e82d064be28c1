// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package hostile

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decode reads body as a server would decode the coding, up to limit
// bytes.
func decode(t *testing.T, coding string, body []byte, limit int64) []byte {
	t.Helper()
	var r io.Reader
	var err error
	src := bytes.NewReader(body)
	switch coding {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(src)
	case "zlib", "deflate":
		r, err = zlib.NewReader(src)
	case "raw-deflate":
		r = flate.NewReader(src)
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(src)
		if err == nil {
			defer d.Close()
			r = d
		}
	case "snappy":
		var out []byte
		out, err = snappy.Decode(nil, body)
		require.NoError(t, err)
		return out
	case "x-snappy-framed":
		r = snappy.NewReader(src)
	case "lz4":
		r = lz4.NewReader(src)
	default:
		t.Fatalf("no decoder for %q", coding)
	}
	require.NoError(t, err)
	out, err := io.ReadAll(io.LimitReader(r, limit))
	require.NoError(t, err, coding)
	return out
}

func TestEncodeRoundTrips(t *testing.T) {
	plain := []byte(`{"log_id":"1","data":{"type":"s"}}` + "\n")
	for _, coding := range []string{"gzip", "x-gzip", "deflate", "zlib", "raw-deflate", "zstd", "snappy", "x-snappy-framed", "lz4"} {
		b, err := Encode(coding, plain)
		require.NoError(t, err, coding)
		assert.NotEqual(t, plain, b, coding)
		assert.Equal(t, plain, decode(t, coding, b, 1<<20), coding)
	}
	b, err := Encode("", plain)
	require.NoError(t, err)
	assert.Equal(t, plain, b, "identity")
	b, err = Encode("br", plain)
	require.NoError(t, err)
	assert.Equal(t, append([]byte("br:"), plain...), b, "a coding it does not know")
}

// A bomb decodes to what it says, and weighs far less.
func TestBombsDecodeToTheirSize(t *testing.T) {
	const mib = 4
	for _, coding := range []string{"gzip", "zlib", "raw-deflate", "zstd", "snappy", "x-snappy-framed", "lz4"} {
		b, err := Bomb(coding, 'x', mib)
		require.NoError(t, err, coding)
		assert.Less(t, len(b), mib<<20/16, "%s: %d bytes on the wire", coding, len(b))
		limit := int64(mib<<20 + 1) // one byte more would show
		if coding == "zlib" {
			// Its Adler-32 is left wrong: a reader that reads to the end
			// fails there, after the whole bomb.
			limit = mib << 20
		}
		out := decode(t, coding, b, limit)
		assert.Len(t, out, mib<<20, coding)
		assert.Equal(t, bytes.Repeat([]byte("x"), 16), out[len(out)-16:], coding)
	}
}

func TestBombsAreNamedAndSmall(t *testing.T) {
	bombs, err := Bombs()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, b := range bombs {
		assert.False(t, names[b.Name], "%s twice", b.Name)
		names[b.Name] = true
		assert.NotEmpty(t, b.Body, b.Name)
	}
	for _, coding := range append([]string{"raw-deflate"}, codings...) {
		assert.True(t, names[coding+" bomb"], coding)
	}
	assert.Len(t, LZ4LegacyRun(3), 12)
}
