// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"compress/gzip"
	"io"
	"sync"
)

// gzipReaders keeps gzip readers between requests: some 40 KB of window and
// tables each, which Auth0's every batch would otherwise allocate again.
// A gzip reader's memory is fixed, whatever the stream: keeping it keeps
// nothing a request asked for.
var gzipReaders sync.Pool

func openGzip(body io.Reader, _ int64) (io.ReadCloser, error) {
	zr, ok := gzipReaders.Get().(*gzip.Reader)
	if !ok {
		var err error
		if zr, err = gzip.NewReader(body); err != nil {
			return nil, err
		}
		return &pooledGzipReader{zr}, nil
	}
	if err := zr.Reset(body); err != nil {
		gzipReaders.Put(zr)
		return nil, err
	}
	return &pooledGzipReader{zr}, nil
}

// pooledGzipReader gives its reader back on Close, which the receiver calls
// once the body is read: nothing of the reader is kept.
type pooledGzipReader struct {
	*gzip.Reader
}

func (p *pooledGzipReader) Close() error {
	if p.Reader == nil {
		return nil
	}
	err := p.Reader.Close()
	gzipReaders.Put(p.Reader)
	p.Reader = nil
	return err
}
