package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A record is one Batch's mutations, written with one write and made
// durable with one fsync, so that a batch is applied entirely or not at all:
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

// recordWriter builds a record in a reused buffer.
type recordWriter struct {
	buf   []byte
	count int
	// valueOffsets[i] is where the i-th set's value starts in buf.
	valueOffsets []int
}

func (w *recordWriter) reset() {
	// Keep a buffer of ordinary size; let a rare huge one go.
	if cap(w.buf) > 8<<20 {
		w.buf = nil
	}
	w.buf = append(w.buf[:0], make([]byte, recordHeaderSize+binary.MaxVarintLen64)...)
	w.count = 0
	w.valueOffsets = w.valueOffsets[:0]
}

func (w *recordWriter) set(key string, value []byte) {
	w.buf = append(w.buf, opSet)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(value)))
	w.valueOffsets = append(w.valueOffsets, len(w.buf))
	w.buf = append(w.buf, value...)
	w.count++
}

func (w *recordWriter) delete(key string) {
	w.buf = append(w.buf, opDelete)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.count++
}

// finish writes the count and the header and returns the record and the
// number of bytes it was shifted by (the count's varint is placed right
// before the operations, so the record starts after unused space).
func (w *recordWriter) finish() (record []byte, shift int, err error) {
	var count [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(count[:], uint64(w.count))
	shift = binary.MaxVarintLen64 - n
	copy(w.buf[recordHeaderSize+shift:], count[:n])
	record = w.buf[shift:]
	payload := record[recordHeaderSize:]
	if len(payload) > maxRecordSize {
		return nil, 0, fmt.Errorf("batch of %d bytes is larger than the journal's limit of %d", len(payload), maxRecordSize)
	}
	binary.LittleEndian.PutUint32(record[0:4], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(record[4:8], uint32(len(payload)))
	return record, shift, nil
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
