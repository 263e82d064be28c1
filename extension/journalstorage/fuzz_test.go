// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// bytesFile collects a record's pieces, for seeds.
type bytesFile []byte

func (b *bytesFile) WriteAt(p []byte, off int64) (int, error) {
	*b = append((*b)[:off], p...)
	return len(p), nil
}

// FuzzOpen opens a journal whose newest segment holds arbitrary bytes:
// never a panic; what opens takes writes and reopens to the same contents.
func FuzzOpen(f *testing.F) {
	var w recordWriter
	w.reset()
	w.set("qmv0", []byte("metadata"))
	w.set("1", []byte("an item"))
	w.delete("0")
	w.set("2", make([]byte, largeValue)) // written in place
	r, err := w.finish()
	require.NoError(f, err)
	var file bytesFile
	require.NoError(f, r.writeAt(&file, 0))
	record := append(segmentHeader(), file...)
	f.Add(append([]byte{}, record...))
	f.Add(append(append([]byte{}, record...), record[segmentHeaderSize:segmentHeaderSize+9]...))
	f.Add(segmentHeader())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(segmentPath(dir, 1), content, 0o600))
		j, err := openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
		if err != nil {
			return
		}
		ctx := context.Background()
		want := map[string][]byte{}
		for key, loc := range j.index {
			value, err := loc.segment.read(loc.offset, loc.length)
			require.NoError(t, err)
			want[key] = value
		}
		require.NoError(t, j.Batch(ctx, storage.SetOperation("after", []byte("fuzz")), storage.DeleteOperation("1")))
		want["after"] = []byte("fuzz")
		delete(want, "1")
		require.NoError(t, j.Close(ctx))
		j, err = openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
		require.NoError(t, err)
		defer j.Close(ctx)
		requireContents(t, j, want)
	})
}
