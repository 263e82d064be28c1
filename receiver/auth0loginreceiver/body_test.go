// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyRequest is a POST of body; contentLength -1 sends it without a
// declared length, as a chunked request arrives.
func bodyRequest(body []byte, contentLength int64) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth0/logs", bytes.NewReader(body))
	req.ContentLength = contentLength
	return req
}

// TestReadBody: a body comes back whole up to the limit, with or without
// a declared length, and one byte more is errBodyTooLarge; the ticket
// holds exactly the buffer's memory, and a decoder's working memory only
// while it decodes.
func TestReadBody(t *testing.T) {
	const limit = 100 << 10
	body := bytes.Repeat([]byte("0123456789"), limit/10)
	gzipBody := gzipped(t, body)
	for _, tt := range []struct {
		name          string
		coding        string
		wire          []byte
		contentLength int64
	}{
		{"declared length", "", body, int64(len(body))},
		{"chunked", "", body, -1},
		{"gzip", codingGzip, gzipBody, int64(len(gzipBody))},
		{"gzip chunked", codingGzip, gzipBody, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tk := newAdmission(1<<30, 1, time.Second).ticket(context.Background())
			got, err := readBody(bodyRequest(tt.wire, tt.contentLength), tt.coding, codecs[tt.coding], limit, tk)
			require.NoError(t, err)
			assert.Equal(t, body, got)
			assert.Equal(t, int64(cap(got)), tk.held, "the ticket holds the buffer, and no longer the decoder")
			putBodyBuffer(got)
			tk.release()

			tk = newAdmission(1<<30, 1, time.Second).ticket(context.Background())
			wire := append(bytes.Clone(body), '!')
			if tt.coding != "" {
				wire = gzipped(t, wire)
			}
			contentLength := tt.contentLength
			if contentLength > 0 {
				contentLength = int64(len(wire))
			}
			got, err = readBody(bodyRequest(wire, contentLength), tt.coding, codecs[tt.coding], limit, tk)
			assert.ErrorIs(t, err, errBodyTooLarge, "one byte beyond the limit")
			assert.LessOrEqual(t, cap(got), limit)
			putBodyBuffer(got)
			tk.release()
		})
	}
}

// TestReadBodyWithinAdmission: a body, or a decoder, that does not fit
// beside what other requests hold is refused busy, and the request's
// ticket gives back whatever it took.
func TestReadBodyWithinAdmission(t *testing.T) {
	const capacity = 1 << 20
	a := newAdmission(capacity, 2, 10*time.Millisecond)
	other := a.ticket(context.Background())
	require.NoError(t, other.reserve(capacity-4<<10))

	tk := a.ticket(context.Background())
	body, err := readBody(bodyRequest(make([]byte, 64<<10), -1), "", codec{}, 1<<20, tk)
	putBodyBuffer(body)
	assert.ErrorIs(t, err, errBusy)
	_, err = readBody(bodyRequest(gzipped(t, []byte("{}")), -1), codingGzip, codecs[codingGzip], 1<<20, tk)
	assert.ErrorIs(t, err, errBusy, "the decoder's working memory does not fit either")

	tk.release()
	other.release()
	assert.True(t, a.memory.TryAcquire(capacity), "all the memory is back")
}

// TestReadBodyReservesBeforeAllocating: a body declaring more than
// admission has room for is refused before its buffer is allocated, and
// a pooled buffer is taken only when admission has room for all of it.
func TestReadBodyReservesBeforeAllocating(t *testing.T) {
	const declared = 4 << 20
	const capacity = 8 << 20
	a := newAdmission(capacity, 3, 10*time.Millisecond)
	req := bodyRequest(make([]byte, declared), declared)
	other := a.ticket(context.Background())
	require.NoError(t, other.reserve(capacity-declared/2))
	tk := a.ticket(context.Background())

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, err := readBody(req, "", codec{}, declared, tk)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, errBusy)
	assert.Nil(t, body)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(declared/4), "nothing of the declared size was allocated")
	assert.Zero(t, tk.held)
	tk.release()
	other.release()

	// Room for a small body but not for a large pooled buffer: a buffer
	// of the body's size is made instead.
	putBodyBuffer(make([]byte, 0, maxPooledBody))
	small := a.ticket(context.Background())
	other = a.ticket(context.Background())
	require.NoError(t, other.reserve(capacity-64<<10))
	got, err := readBody(bodyRequest(make([]byte, 1000), 1000), "", codec{}, declared, small)
	require.NoError(t, err)
	assert.Len(t, got, 1000)
	assert.Equal(t, int64(cap(got)), small.held, "the ticket holds what the buffer holds")
	assert.LessOrEqual(t, small.held, int64(64<<10))
	small.release()
	other.release()
	assert.True(t, a.memory.TryAcquire(capacity), "all the memory is back")
}

// TestReadBodyDecodeError: a body that its coding cannot decode is a
// decodeError, which says so.
func TestReadBodyDecodeError(t *testing.T) {
	tk := newAdmission(1<<30, 1, time.Second).ticket(context.Background())
	defer tk.release()
	gz := gzipped(t, bytes.Repeat([]byte("{}\n"), 1000))
	for name, wire := range map[string][]byte{"not gzip": []byte("plain text"), "cut short": gz[:len(gz)/2]} {
		body, err := readBody(bodyRequest(wire, int64(len(wire))), codingGzip, codecs[codingGzip], 1<<20, tk)
		putBodyBuffer(body)
		var de *decodeError
		require.ErrorAs(t, err, &de, name)
		assert.Contains(t, err.Error(), "could not read the request body: ", name)
	}
}

func TestInitialBodyBuffer(t *testing.T) {
	for _, tt := range []struct {
		contentLength int64
		coding        string
		limit         int64
		want          int64
	}{
		{-1, "", 1 << 20, minBodyBuffer},
		{0, codingGzip, 1 << 20, minBodyBuffer},
		{-1, "", 1000, 1000},
		{5000, "", 1 << 20, 5000},
		{5000, "", 1000, 1000},
		{1000, codingGzip, 1 << 20, minBodyBuffer},
		{100 << 10, codingZstd, 1 << 20, 400 << 10},
		{1 << 20, codingZstd, 1 << 20, 1 << 20},
	} {
		req := bodyRequest(nil, tt.contentLength)
		assert.Equal(t, tt.want, initialBodyBuffer(req, tt.coding, tt.limit), "Content-Length %d, coding %q, limit %d", tt.contentLength, tt.coding, tt.limit)
	}
}

func TestClassifyReadError(t *testing.T) {
	other := errors.New("connection reset")
	for err, want := range map[error]error{
		&http.MaxBytesError{Limit: 10}: errBodyTooLarge,
		zstd.ErrDecoderSizeExceeded:    errBodyTooLarge,
		errBodyTooLarge:                errBodyTooLarge,
		zstd.ErrWindowSizeExceeded:     errZstdWindow,
		errBusy:                        errBusy,
		errBeyondAdmission:             errBeyondAdmission,
	} {
		assert.ErrorIs(t, classifyReadError(err), want, "%v", err)
	}
	var de *decodeError
	require.ErrorAs(t, classifyReadError(other), &de)
	assert.ErrorIs(t, de.err, other)
}
