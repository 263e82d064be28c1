// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blocks(t *testing.T, f *os.File) int64 {
	t.Helper()
	info, err := f.Stat()
	require.NoError(t, err)
	return info.Sys().(*syscall.Stat_t).Blocks * 512
}

// allocate reserves blocks without growing the file (replay ends at the
// last record); release gives written blocks back, the size kept.
func TestAllocateAndRelease(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "segment"))
	require.NoError(t, err)
	defer f.Close()

	const length = 1 << 20
	err = allocate(f, 0, length)
	if errors.Is(err, errAllocateUnsupported) {
		t.Skipf("the filesystem of %s does not reserve blocks", dir)
	}
	require.NoError(t, err)
	info, err := f.Stat()
	require.NoError(t, err)
	assert.Zero(t, info.Size(), "the size is unchanged")
	assert.GreaterOrEqual(t, blocks(t, f), int64(length))

	// What is released was written: a segment's records.
	_, err = f.WriteAt(bytes.Repeat([]byte{1}, length), 0)
	require.NoError(t, err)
	require.NoError(t, release(f, 0, length))
	assert.Less(t, blocks(t, f), int64(length))
	info, err = f.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(length), info.Size(), "the size is unchanged")
	head := make([]byte, 16)
	_, err = f.ReadAt(head, 0)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 16), head, "released bytes read as zeros")

	free, ok := freeSpace(dir)
	assert.True(t, ok)
	assert.Positive(t, free)
	_, ok = freeSpace(filepath.Join(dir, "missing"))
	assert.False(t, ok)
}
