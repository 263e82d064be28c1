// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/klauspost/compress/zstd"
)

var (
	// errBodyTooLarge: the body, decoded, is longer than
	// max_request_body_size, or says it will be (413).
	errBodyTooLarge = errors.New("request body is larger than max_request_body_size")
	// errZstdWindow: a zstd frame asks for more history than the receiver
	// keeps (413).
	errZstdWindow = errors.New("zstd window too large")
)

// decodeError is a body that could not be read or decoded (400).
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "could not read the request body: " + e.err.Error() }

const (
	// minBodyBuffer is the first buffer for a body of unknown length.
	minBodyBuffer = 32 << 10
	// maxPooledBody bounds the buffers kept between requests: an ordinary
	// batch fits, a rare large one does not pin its memory.
	maxPooledBody = 512 << 10
)

var bodyBuffers sync.Pool // of *[]byte

func getBodyBuffer() []byte {
	if p, ok := bodyBuffers.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return nil
}

func putBodyBuffer(b []byte) {
	if c := cap(b); c > 0 && c <= maxPooledBody {
		bodyBuffers.Put(&b)
	}
}

// readBody reads the request's body, decoded with c when coding is not
// identity, into a buffer of at most limit bytes, and returns it (also
// with an error, for putBodyBuffer). Before the decoder is made and before
// the buffer grows, t reserves what they take: a request holds admission
// for the memory it really holds, and a body that does not fit is refused
// before its bytes are allocated. Decoding stops at limit whatever the
// body claims.
func readBody(req *http.Request, coding string, c codec, limit int64, t *ticket) ([]byte, error) {
	src := io.Reader(req.Body)
	if coding != "" {
		work := c.workingMemory(limit)
		if err := t.reserve(work); err != nil {
			return nil, err
		}
		defer t.giveBack(work)
		dec, err := c.open(req.Body, limit)
		if err != nil {
			return nil, classifyReadError(err)
		}
		defer dec.Close()
		src = dec
	}

	buf, err := firstBodyBuffer(initialBodyBuffer(req, coding, limit), limit, t)
	if err != nil {
		return nil, err
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				var probe [1]byte
				n, err := io.ReadFull(src, probe[:])
				if n > 0 {
					return buf, errBodyTooLarge
				}
				if errors.Is(err, io.EOF) {
					return buf, nil
				}
				return buf, classifyReadError(err)
			}
			grown := min(max(2*int64(cap(buf)), minBodyBuffer), limit)
			if err := t.reserve(grown - int64(cap(buf))); err != nil {
				return buf, err
			}
			next := make([]byte, len(buf), grown)
			copy(next, buf)
			putBodyBuffer(buf)
			buf = next
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, classifyReadError(err)
		}
	}
}

// firstBodyBuffer returns an empty buffer of at least size bytes, with
// its capacity reserved on t before anything is allocated. A pooled
// buffer is taken when admission has room for all of it; otherwise a
// buffer of exactly size is made.
func firstBodyBuffer(size, limit int64, t *ticket) ([]byte, error) {
	if err := t.reserve(size); err != nil {
		return nil, err
	}
	if pooled := getBodyBuffer(); pooled != nil {
		pooled = pooled[:0:min(int64(cap(pooled)), limit)]
		extra := int64(cap(pooled)) - size
		if t.tryReserve(extra) {
			if extra < 0 {
				t.giveBack(-extra)
			}
			return pooled, nil
		}
		putBodyBuffer(pooled)
	}
	return make([]byte, 0, size), nil
}

// initialBodyBuffer sizes the first buffer: the declared length of an
// identity body, a guess for a compressed one (JSON compresses about
// 5 to 10 times).
func initialBodyBuffer(req *http.Request, coding string, limit int64) int64 {
	switch {
	case req.ContentLength <= 0:
		return min(minBodyBuffer, limit)
	case coding == "":
		return min(req.ContentLength, limit)
	default:
		return min(max(4*req.ContentLength, minBodyBuffer), limit)
	}
}

func classifyReadError(err error) error {
	var wire *http.MaxBytesError
	switch {
	case errors.Is(err, errBodyTooLarge), errors.As(err, &wire), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return errBodyTooLarge
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		return errZstdWindow
	case errors.Is(err, errBusy), errors.Is(err, errBeyondAdmission):
		return err
	}
	return &decodeError{err: err}
}

// tooLargeMessage says which limit a body broke.
func tooLargeMessage(err error, limit int64) string {
	if errors.Is(err, errZstdWindow) {
		return fmt.Sprintf("the zstd frame asks for a window larger than the receiver keeps (%d bytes): compress with a window of at most 8 MiB (zstd levels up to 19)", maxZstdWindow)
	}
	return fmt.Sprintf("request body is larger than max_request_body_size (%d bytes, counted after decompression)", limit)
}
