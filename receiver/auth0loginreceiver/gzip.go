package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"compress/gzip"
	"io"
	"slices"
	"sync"

	"go.opentelemetry.io/collector/config/confighttp"
)

// gzipReaders keeps gzip readers between requests. confighttp (v0.144)
// makes a new one for every gzip request (it pools only zstd's): some 40 KB
// of window and tables, allocated again for each batch Auth0 sends, and for
// each request a flood sends before it is even authenticated.
var gzipReaders sync.Pool

// gzipDecoder replaces confighttp's gzip decoder with one that reuses
// readers, where the configuration accepts gzip at all (a decoder given to
// confighttp is used whatever compression_algorithms says).
func gzipDecoder(cfg confighttp.ServerConfig) []confighttp.ToServerOption {
	if cfg.CompressionAlgorithms != nil && !slices.Contains(cfg.CompressionAlgorithms, "gzip") {
		return nil
	}
	return []confighttp.ToServerOption{confighttp.WithDecoder("gzip", decodeGzip)}
}

func decodeGzip(body io.ReadCloser) (io.ReadCloser, error) {
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

// pooledGzipReader gives its reader back on Close, which confighttp's
// decompressor calls once the handler has returned: the handler reads the
// whole body before that and keeps nothing of the reader.
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
