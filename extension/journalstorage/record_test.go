// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memFile is a file in memory for record.writeAt.
type memFile []byte

func (m *memFile) WriteAt(b []byte, off int64) (int, error) {
	if end := int(off) + len(b); end > len(*m) {
		*m = append(*m, make([]byte, end-len(*m))...)
	}
	return copy((*m)[off:], b), nil
}

// writeRecord builds a record of a small set, a large set (written from
// the caller's slice) and a delete, and returns its bytes.
func writeRecord(t *testing.T, large []byte) ([]byte, *recordWriter) {
	t.Helper()
	var w recordWriter
	w.reset()
	w.set("small", []byte("v"))
	w.set("large", large)
	w.delete("gone")
	rec, err := w.finish()
	require.NoError(t, err)
	var f memFile
	require.NoError(t, rec.writeAt(&f, 0))
	require.Len(t, f, rec.length)
	return f, &w
}

// What the writer lays out, decodePayload reads back: each operation, and
// where in the payload each value is.
func TestRecordRoundTrip(t *testing.T) {
	large := bytes.Repeat([]byte("L"), largeValue*2)
	b, w := writeRecord(t, large)
	n, sum, err := payloadLength(b[:recordHeaderSize])
	require.NoError(t, err)
	require.Equal(t, len(b)-recordHeaderSize, n)
	payload := b[recordHeaderSize:]

	ops, err := decodePayload(payload, sum, nil)
	require.NoError(t, err)
	require.Len(t, ops, 3)
	assert.Equal(t, []string{"small", "large", "gone"}, []string{ops[0].key, ops[1].key, ops[2].key})
	assert.Equal(t, []byte{opSet, opSet, opDelete}, []byte{ops[0].kind, ops[1].kind, ops[2].kind})
	value := func(op recordOp) []byte { return payload[op.valueAt : op.valueAt+op.valueLength] }
	assert.Equal(t, []byte("v"), value(ops[0]))
	assert.Equal(t, large, value(ops[1]))
	assert.Equal(t, []int{ops[0].valueAt, ops[1].valueAt}, w.valueAt, "the writer knows where its values are")
}

// A record damaged anywhere, or cut short, decodes to nothing; a zeroed
// header is no record.
func TestRecordDamage(t *testing.T) {
	b, _ := writeRecord(t, bytes.Repeat([]byte("L"), largeValue))
	_, sum, err := payloadLength(b[:recordHeaderSize])
	require.NoError(t, err)
	payload := b[recordHeaderSize:]
	before := []recordOp{{key: "earlier"}}
	for _, i := range []int{0, len(payload) / 2, len(payload) - 1} {
		damaged := bytes.Clone(payload)
		damaged[i] ^= 0x40
		ops, err := decodePayload(damaged, sum, before)
		require.ErrorIs(t, err, errTornRecord, "byte %d", i)
		assert.Equal(t, before, ops, "nothing appended")
	}
	_, err = decodePayload(payload[:len(payload)-1], sum, nil)
	require.ErrorIs(t, err, errTornRecord)
	_, _, err = payloadLength(make([]byte, recordHeaderSize))
	require.ErrorIs(t, err, errTornRecord)
}
