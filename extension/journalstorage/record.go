// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A record is one Batch's mutations, appended together (one write per
// large value in it) and made durable with one fsync; its checksum makes a
// batch count entirely or not at all:
//
//	crc32c(payload) uint32 | len(payload) uint32 | payload
//	payload: count uvarint, then per operation:
//	  opSet    key-length uvarint | key | value-length uvarint | value
//	  opDelete key-length uvarint | key
//
// A crash can leave a record cut short at the end of the newest segment;
// the checksum tells it from a complete one.
const (
	recordHeaderSize = 8
	// maxRecordSize bounds one batch; the persistent queue's items are a
	// few MiB at most.
	maxRecordSize = 1 << 30

	opSet    byte = 1
	opDelete byte = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errTornRecord = errors.New("record cut short or corrupted")

// recordWriter builds a record. Keys and small values are copied into a
// reused buffer; a large value (a queue item) is written from where the
// caller holds it, so that it is not copied once more before the write.
type recordWriter struct {
	buf []byte
	// pieces are the record in order: ranges of buf, or external values.
	pieces     []piece
	pieceStart int
	external   int // bytes of external values so far
	count      int
	// valueAt[i] is where the i-th set's value starts, counted from the
	// first operation; finish makes it count from the payload's start.
	valueAt []int
}

type piece struct {
	from, to int
	value    []byte
}

// largeValue is the size from which a value is written in place.
const largeValue = 4 << 10

// opsStart leaves room before the operations for the header and the
// operation count, whose length is known only at the end.
const opsStart = recordHeaderSize + binary.MaxVarintLen64

func (w *recordWriter) reset() {
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
	w.buf = append(w.buf[:0], make([]byte, opsStart)...)
	w.pieces = w.pieces[:0]
	w.pieceStart, w.external, w.count = 0, 0, 0
	w.valueAt = w.valueAt[:0]
}

func (w *recordWriter) position() int { return len(w.buf) - opsStart + w.external }

func (w *recordWriter) set(key string, value []byte) {
	w.buf = append(w.buf, opSet)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(value)))
	w.valueAt = append(w.valueAt, w.position())
	if len(value) >= largeValue {
		w.cut()
		w.pieces = append(w.pieces, piece{value: value})
		w.external += len(value)
	} else {
		w.buf = append(w.buf, value...)
	}
	w.count++
}

func (w *recordWriter) delete(key string) {
	w.buf = append(w.buf, opDelete)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.count++
}

// cut closes the piece of buf written since the last one.
func (w *recordWriter) cut() {
	if len(w.buf) > w.pieceStart {
		w.pieces = append(w.pieces, piece{from: w.pieceStart, to: len(w.buf)})
	}
	w.pieceStart = len(w.buf)
}

// record is a finished record: its pieces in order and its length.
type record struct {
	w      *recordWriter
	length int
}

// finish writes the count and the header in front of the operations and
// turns valueAt into offsets from the payload's start.
func (w *recordWriter) finish() (record, error) {
	w.cut()
	var count [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(count[:], uint64(w.count))
	start := opsStart - n - recordHeaderSize
	copy(w.buf[opsStart-n:], count[:n])
	w.pieces[0].from = start
	length := 0
	for _, p := range w.pieces {
		length += p.len()
	}
	payloadLength := length - recordHeaderSize
	if payloadLength > maxRecordSize {
		return record{}, fmt.Errorf("batch of %d bytes is larger than the journal's limit of %d", payloadLength, maxRecordSize)
	}
	for i := range w.valueAt {
		w.valueAt[i] += n
	}
	// The checksum covers the payload: every piece after the header.
	sum := uint32(0)
	for i, p := range w.pieces {
		b := w.bytes(p)
		if i == 0 {
			b = b[recordHeaderSize:]
		}
		sum = crc32.Update(sum, castagnoli, b)
	}
	binary.LittleEndian.PutUint32(w.buf[start:], sum)
	binary.LittleEndian.PutUint32(w.buf[start+4:], uint32(payloadLength))
	return record{w: w, length: length}, nil
}

func (p piece) len() int {
	if p.value != nil {
		return len(p.value)
	}
	return p.to - p.from
}

func (w *recordWriter) bytes(p piece) []byte {
	if p.value != nil {
		return p.value
	}
	return w.buf[p.from:p.to]
}

// writeAt writes the record at off, piece by piece.
func (r record) writeAt(f interface {
	WriteAt([]byte, int64) (int, error)
}, off int64,
) error {
	for _, p := range r.w.pieces {
		b := r.w.bytes(p)
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}

// recordOp is one decoded operation; valueAt is the value's offset in the
// payload, so replay can index values without keeping them.
type recordOp struct {
	kind        byte
	key         string
	valueAt     int
	valueLength int
}

// payloadLength reads a record header; it fails on a header that cannot
// start a record (a zeroed tail, a length beyond the limit).
func payloadLength(header []byte) (int, uint32, error) {
	sum := binary.LittleEndian.Uint32(header[0:4])
	n := binary.LittleEndian.Uint32(header[4:8])
	if n == 0 || n > maxRecordSize {
		return 0, 0, errTornRecord
	}
	return int(n), sum, nil
}

// decodePayload checks a payload against its checksum and appends its
// operations to ops; nothing is appended unless the whole payload is sound.
func decodePayload(payload []byte, sum uint32, ops []recordOp) ([]recordOp, error) {
	if crc32.Checksum(payload, castagnoli) != sum {
		return ops, errTornRecord
	}
	count, n := binary.Uvarint(payload)
	if n <= 0 || count == 0 || count > uint64(len(payload)) {
		return ops, errTornRecord
	}
	start := len(ops)
	pos := n
	for range count {
		if pos >= len(payload) {
			return ops[:start], errTornRecord
		}
		op := recordOp{kind: payload[pos]}
		pos++
		key, next, ok := readChunk(payload, pos)
		if !ok {
			return ops[:start], errTornRecord
		}
		op.key, pos = string(key), next
		switch op.kind {
		case opSet:
			value, next, ok := readChunk(payload, pos)
			if !ok {
				return ops[:start], errTornRecord
			}
			op.valueAt, op.valueLength, pos = next-len(value), len(value), next
		case opDelete:
		default:
			return ops[:start], errTornRecord
		}
		ops = append(ops, op)
	}
	if pos != len(payload) {
		return ops[:start], errTornRecord
	}
	return ops, nil
}

// readChunk reads a uvarint length and that many bytes at pos.
func readChunk(b []byte, pos int) (chunk []byte, next int, ok bool) {
	length, n := binary.Uvarint(b[pos:])
	if n <= 0 || length > uint64(len(b)-pos-n) {
		return nil, 0, false
	}
	start := pos + n
	return b[start : start+int(length)], start + int(length), true
}
