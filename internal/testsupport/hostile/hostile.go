// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package hostile makes request bodies an attacker would send to an HTTP
// receiver: compressed in every coding a Go server might decode, bombs that
// decode to far more than they weigh, and bodies that declare more than
// they hold.
package hostile // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// codings are the Content-Encodings a Go server might decode (confighttp's
// and x-gzip), then one no server knows.
var codings = []string{"gzip", "x-gzip", "deflate", "zlib", "zstd", "snappy", "x-snappy-framed", "lz4", "br"}

// Encode compresses plain with a coding, the way a sender would.
// "raw-deflate" is a deflate stream without zlib's header; a coding it does
// not know is prefixed to the bytes.
func Encode(coding string, plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case "", "identity":
		return plain, nil
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&buf)
	case "zlib", "deflate":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		w, err = flate.NewWriter(&buf, flate.BestSpeed)
	case "zstd":
		w, err = zstd.NewWriter(&buf)
	case "snappy":
		return snappy.Encode(nil, plain), nil
	case "x-snappy-framed":
		w = snappy.NewBufferedWriter(&buf)
	case "lz4":
		w = lz4.NewWriter(&buf)
	default:
		return append([]byte(coding+":"), plain...), nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Bomb is a body of the coding that decodes to mib MiB of one byte, built
// from one compressed MiB: streams that may follow one another (gzip
// members, zstd and lz4 frames, snappy framed streams) are repeated, and a
// deflate stream repeats a flushed block. A few KB to a few hundred KB on
// the wire; compressing the whole would take the race detector a minute.
func Bomb(coding string, fill byte, mib int) ([]byte, error) {
	one := bytes.Repeat([]byte{fill}, 1<<20)
	switch coding {
	case "snappy":
		return snappy.Encode(nil, bytes.Repeat([]byte{fill}, mib<<20)), nil
	case "gzip", "x-gzip", "zstd", "lz4", "x-snappy-framed":
		b, err := Encode(coding, one)
		return bytes.Repeat(b, mib), err
	case "deflate", "zlib", "raw-deflate":
	default:
		// A coding nobody knows: what it holds does not matter.
		return Bomb("gzip", fill, mib)
	}
	var block bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(one); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil { // byte aligned, not final
		return nil, err
	}
	// The repeated blocks, then a final empty stored block.
	stream := append(bytes.Repeat(block.Bytes(), mib), 0x01, 0x00, 0x00, 0xff, 0xff)
	if coding == "raw-deflate" {
		return stream, nil
	}
	// zlib (deflate's HTTP format): header, the deflate stream, and an
	// Adler-32 that no bounded reader reaches.
	return append(append([]byte{0x78, 0x01}, stream...), 0, 0, 0, 0), nil
}

// SnappyClaims4GiB is a snappy block whose first five bytes declare
// 4 GiB of output: a decoder that allocates what it is told is done for.
var SnappyClaims4GiB = []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}

// zstdWindowBomb is a zstd frame that asks for a 2^29-byte (512 MiB)
// window, then repeats one byte in RLE blocks of 128 KiB, four bytes each.
func zstdWindowBomb(blocks int) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 19 << 3}
	for i := range blocks {
		header := uint32(1)<<1 | uint32(128<<10)<<3 // RLE, 128 KiB
		if i == blocks-1 {
			header |= 1 // last block
		}
		b = append(b, byte(header), byte(header>>8), byte(header>>16), ' ')
	}
	return b
}

// lz4LegacyMagic starts a legacy lz4 frame.
var lz4LegacyMagic = []byte{0x02, 0x21, 0x4c, 0x18}

// LZ4LegacyRun is a legacy lz4 frame whose block sizes are the legacy
// magic again, n times: a reader that recurses for each takes a stack
// frame per 4 bytes.
func LZ4LegacyRun(n int) []byte {
	return bytes.Repeat(lz4LegacyMagic, n)
}

// Body is one hostile request body and the Content-Encoding it is sent
// with.
type Body struct {
	Name   string
	Coding string
	Body   []byte
}

// Bombs are bodies that decode, or claim to decode, to 64 MiB or more: one
// per coding, and the special ones.
func Bombs() ([]Body, error) {
	out := []Body{
		{"snappy block declaring 4 GiB", "snappy", SnappyClaims4GiB},
		{"zstd frame asking for a 512 MiB window", "zstd", zstdWindowBomb(2048)},
		{"lz4 legacy magic run", "lz4", LZ4LegacyRun(1 << 20)},
		{"identity 16 MiB", "", bytes.Repeat([]byte(" "), 16<<20)},
	}
	for _, coding := range append([]string{"raw-deflate"}, codings...) {
		b, err := Bomb(coding, ' ', 64)
		if err != nil {
			return nil, err
		}
		sent := coding
		if coding == "raw-deflate" {
			sent = "deflate"
		}
		out = append(out, Body{coding + " bomb", sent, b})
	}
	return out, nil
}
