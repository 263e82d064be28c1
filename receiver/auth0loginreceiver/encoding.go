// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The receiver decodes request bodies itself, after authentication and
// within admission: the confighttp server it runs on is given no decoder
// at all (see receiver.startServer). confighttp decodes before the handler
// checks the secret and opens a decoder before admission could count it;
// its zstd and lz4 readers take what a frame asks for, and it answers
// every coding problem 400. docs/design.md ("Request decompression")
// weighs the two.

// Content codings the receiver can decode, by their HTTP name.
const (
	codingGzip         = "gzip"
	codingDeflate      = "deflate"
	codingZlib         = "zlib"
	codingZstd         = "zstd"
	codingSnappy       = "snappy"
	codingSnappyFramed = "x-snappy-framed"
	codingLZ4          = "lz4"
)

// defaultCodings is what Auth0 sends: gzip (and identity, always accepted).
var defaultCodings = []string{codingGzip}

// codec decodes one content coding with bounded memory.
type codec struct {
	// workingMemory is what one decoder holds besides the decoded body,
	// for a body of at most limit bytes; admission counts it.
	workingMemory func(limit int64) int64
	// open returns a reader of the decoded body. It stops with
	// errBodyTooLarge, before allocating it, where the body declares more
	// than limit decoded bytes; the caller stops reading at limit anyway.
	open func(body io.Reader, limit int64) (io.ReadCloser, error)
}

var codecs = map[string]codec{
	codingGzip:         {workingMemory: constant(flateMemory), open: openGzip},
	codingDeflate:      {workingMemory: constant(flateMemory), open: openDeflate},
	codingZlib:         {workingMemory: constant(flateMemory), open: openZlib},
	codingZstd:         {workingMemory: constant(zstdMemory), open: openZstd},
	codingSnappy:       {workingMemory: snappyBlockMemory, open: openSnappy},
	codingSnappyFramed: {workingMemory: constant(snappyFramedMemory), open: openSnappyFramed},
	codingLZ4:          {workingMemory: constant(lz4Memory), open: openLZ4},
}

const (
	// flateMemory: a 32 KiB window and the decoder's tables.
	flateMemory = 64 << 10
	// snappyFramedMemory: one 64 KiB chunk, decoded and encoded.
	snappyFramedMemory = 160 << 10
	// lz4Memory: a block of the largest size a frame may declare (8 MiB,
	// legacy frames), decoded and compressed.
	lz4Memory = 2*(8<<20) + 64<<10
	// maxZstdWindow bounds the history a zstd frame may ask the decoder to
	// keep (the frame declares it, and the decoder allocates it, plus
	// 1 MiB, at the first block): zstd's levels up to 19 and the Go
	// encoders' defaults ask for at most 8 MiB.
	maxZstdWindow = 8 << 20
	// zstdMemory: the window, its extra MiB and two blocks of 128 KiB.
	zstdMemory = maxZstdWindow + 1<<20 + 256<<10
)

func constant(n int64) func(int64) int64 { return func(int64) int64 { return n } }

// snappyBlockMemory: the block format is one piece: the compressed body
// (at most limit, the wire bound being the same) and its decoded copy.
func snappyBlockMemory(limit int64) int64 { return 2 * limit }

// supportedCodings lists every coding the receiver can be configured to
// accept, for messages.
func supportedCodings() []string {
	names := make([]string, 0, len(codecs))
	for name := range codecs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// isIdentity tells the names that mean "not encoded": confighttp spells
// identity "".
func isIdentity(name string) bool { return name == "" || name == "identity" }

// validateCodings reports the names of compression_algorithms the receiver
// does not know.
func validateCodings(names []string) error {
	var errs []error
	for _, name := range names {
		n := strings.ToLower(strings.TrimSpace(name))
		if _, ok := codecs[n]; !ok && !isIdentity(n) {
			errs = append(errs, fmt.Errorf(`"compression_algorithms" has %q, which the receiver cannot decode: use some of %s`, name, strings.Join(supportedCodings(), ", ")))
		}
	}
	return errors.Join(errs...)
}

// codings are the content codings one receiver accepts, besides identity.
type codings struct {
	accepted map[string]codec
	// advice says what to send instead, for messages.
	advice string
}

func newCodings(configured []string) codings {
	if configured == nil {
		configured = defaultCodings
	}
	c := codings{accepted: map[string]codec{}}
	var names []string
	for _, name := range configured {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := c.accepted[name]; dup || isIdentity(name) {
			continue
		}
		if codec, ok := codecs[name]; ok {
			c.accepted[name] = codec
			names = append(names, name)
		}
	}
	c.advice = "send the body uncompressed (compression_algorithms accepts no compression)"
	if len(names) > 0 {
		c.advice = "send the body uncompressed or compressed once with " + strings.Join(names, ", ") + " (compression_algorithms)"
	}
	return c
}

// codingError refuses a request for its Content-Encoding: 415.
type codingError struct{ msg string }

func (e *codingError) Error() string { return e.msg }

// of returns the coding of a request's body ("" for identity) and its
// codec. Content-Encoding lists the codings applied, in order, in one or
// more header lines; "identity" and empty members mean nothing. More than
// one real coding is refused: no sender of this receiver compresses twice,
// and each would multiply what a small body decodes to.
func (c codings) of(h http.Header) (string, codec, error) {
	var applied []string
	for _, line := range h.Values("Content-Encoding") {
		for member := range strings.SplitSeq(line, ",") {
			name := strings.ToLower(strings.Trim(member, " \t"))
			if !isIdentity(name) {
				applied = append(applied, name)
			}
		}
	}
	switch len(applied) {
	case 0:
		return "", codec{}, nil
	case 1:
	default:
		return "", codec{}, &codingError{fmt.Sprintf("Content-Encoding %q applies more than one coding: %s", truncate(strings.Join(h.Values("Content-Encoding"), ", "), 64), c.advice)}
	}
	name := applied[0]
	if name == "x-gzip" { // RFC 9110 §8.4.1.3
		name = codingGzip
	}
	codec, ok := c.accepted[name]
	if !ok {
		return "", codec, &codingError{fmt.Sprintf("unsupported Content-Encoding %q: %s", truncate(applied[0], 64), c.advice)}
	}
	return name, codec, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// deflate is zlib's format (RFC 9110 §8.4.1.2), but some senders send a
// raw deflate stream under that name: the zlib header tells them apart.
func openDeflate(body io.Reader, _ int64) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(body, 512)
	if head, err := br.Peek(2); err == nil && isZlibHeader(head[0], head[1]) {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

func isZlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

func openZlib(body io.Reader, _ int64) (io.ReadCloser, error) {
	return zlib.NewReader(body)
}

// A zstd decoder is made for each request, not pooled: a pooled decoder
// keeps the largest window it was ever asked for. Its decoded size bound
// is only a backstop (the decoder would cap the window by it): the body's
// reader stops at limit.
func openZstd(body io.Reader, limit int64) (io.ReadCloser, error) {
	dec, err := zstd.NewReader(body,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(uint64(max(limit, maxZstdWindow))))
	if err != nil {
		return nil, err
	}
	return zstdReadCloser{dec}, nil
}

type zstdReadCloser struct{ *zstd.Decoder }

func (z zstdReadCloser) Close() error {
	z.Decoder.Close()
	return nil
}

// snappyFramingHeader starts every framed snappy stream. Senders of
// "snappy" used the framed format before x-snappy-framed was named, so
// "snappy" accepts both, as confighttp does.
var snappyFramingHeader = []byte("\xff\x06\x00\x00sNaPpY")

// openSnappy decodes the block format, which declares its decoded length
// up front: a length beyond limit is refused before anything is allocated
// for it.
func openSnappy(body io.Reader, limit int64) (io.ReadCloser, error) {
	br := bufio.NewReader(body)
	if head, _ := br.Peek(len(snappyFramingHeader)); bytes.Equal(head, snappyFramingHeader) {
		return openSnappyFramed(br, limit)
	}
	compressed, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, err
	}
	if int64(n) > limit {
		return nil, errBodyTooLarge
	}
	decoded, err := snappy.Decode(make([]byte, n), compressed)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(decoded)), nil
}

func openSnappyFramed(body io.Reader, _ int64) (io.ReadCloser, error) {
	return io.NopCloser(snappy.NewReader(body)), nil
}

func openLZ4(body io.Reader, _ int64) (io.ReadCloser, error) {
	zr := lz4.NewReader(&lz4LegacyGuard{r: body})
	if err := zr.Apply(lz4.ConcurrencyOption(1)); err != nil {
		return nil, err
	}
	return io.NopCloser(zr), nil
}

// lz4LegacyMagic starts a legacy lz4 frame. The lz4 reader reads a block
// size where a legacy frame may start again, and recurses for each repeat:
// 4 MiB of this magic takes it 128 MiB of stack.
var lz4LegacyMagic = []byte{0x02, 0x21, 0x4c, 0x18}

// maxLZ4LegacyRun bounds the legacy frame starts read in a row (an empty
// legacy frame is of no use to a sender), and so that recursion.
const maxLZ4LegacyRun = 16

var errLZ4LegacyRun = errors.New("lz4: legacy frame markers repeated without data")

// lz4LegacyGuard sees the lz4 reader's reads: its 4-byte reads (magic
// numbers, block sizes) are made whole, and a run of legacy frame starts
// ends the body with an error.
type lz4LegacyGuard struct {
	r   io.Reader
	run int
}

func (g *lz4LegacyGuard) Read(p []byte) (int, error) {
	if len(p) != len(lz4LegacyMagic) {
		n, err := g.r.Read(p)
		if n > 0 {
			g.run = 0
		}
		return n, err
	}
	n, err := io.ReadFull(g.r, p)
	if n == len(p) && bytes.Equal(p, lz4LegacyMagic) {
		if g.run++; g.run > maxLZ4LegacyRun {
			return 0, errLZ4LegacyRun
		}
	} else if n > 0 {
		g.run = 0
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
