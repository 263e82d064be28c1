// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Every segment file opens with a header that names its format, so that a
// later change of the format is detected and refused, not misread:
//
//	magic [8]byte | version uint32 | crc32c(magic, version) uint32
//
// Records (record.go) follow it.
const (
	segmentHeaderSize = 16
	// segmentVersion is the format of the records this code writes and
	// reads.
	segmentVersion uint32 = 1
)

// segmentMagic is not text, so that no text file starts with it by chance.
var segmentMagic = []byte("\x89journl\n")

var (
	errUnknownFormat = errors.New("journal storage: unknown segment format")
	// errTornHeader is a header a crash cut short while the segment was
	// created: only the newest segment may have one.
	errTornHeader = errors.New("segment header cut short")
)

func segmentHeader() []byte {
	h := binary.LittleEndian.AppendUint32(append(make([]byte, 0, segmentHeaderSize), segmentMagic...), segmentVersion)
	return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
}

// readSegmentHeader checks the header at the start of f.
func readSegmentHeader(f *os.File) error {
	header := make([]byte, segmentHeaderSize)
	n, err := io.ReadFull(io.NewSectionReader(f, 0, segmentHeaderSize), header)
	want := segmentHeader()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if bytes.HasPrefix(want, header[:n]) || isZero(header[:n]) {
			return errTornHeader
		}
	case err != nil:
		return fmt.Errorf("journal storage: read the segment header: %w", err)
	case isZero(header):
		return errTornHeader
	}
	if !bytes.Equal(header[:len(segmentMagic)], segmentMagic) {
		return fmt.Errorf("%w: it does not start with journal_storage's magic number", errUnknownFormat)
	}
	body, sum := header[:segmentHeaderSize-4], binary.LittleEndian.Uint32(header[segmentHeaderSize-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return fmt.Errorf("%w: its header is damaged", errUnknownFormat)
	}
	if version := binary.LittleEndian.Uint32(body[len(segmentMagic):]); version != segmentVersion {
		return fmt.Errorf("%w: it was written in journal format version %d, and this collector reads version %d only; "+
			"run the collector version that wrote it until its queue is drained", errUnknownFormat, version, segmentVersion)
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
