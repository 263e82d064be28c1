// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// TestSegmentFormat: every segment opens with the magic number and the
// format's version; a segment of another version, or no segment of this
// extension at all, is refused with an error that says so, never read as
// records. A header a crash cut short is taken only on the newest segment.
func TestSegmentFormat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := open(t, dir, 1<<20)
	require.NoError(t, j.Set(ctx, "k", []byte("kept")))
	path := j.active().path
	require.NoError(t, j.Close(ctx))
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, segmentMagic, content[:8])
	require.Equal(t, segmentVersion, binary.LittleEndian.Uint32(content[8:12]))

	withHeader := func(header []byte) []byte { return append(append([]byte{}, header...), content[segmentHeaderSize:]...) }
	version := func(v uint32) []byte {
		h := binary.LittleEndian.AppendUint32(append([]byte{}, segmentMagic...), v)
		return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
	}
	for name, tt := range map[string]struct {
		content []byte
		want    string
	}{
		"newer version":       {withHeader(version(2)), "written in journal format version 2, and this collector reads version 1 only"},
		"no magic number":     {content[segmentHeaderSize:], "does not start with journal_storage's magic number"},
		"damaged header":      {withHeader(append(version(1)[:12], 0, 0, 0, 1)), "its header is damaged"},
		"another file format": {[]byte("SQLite format 3\x00 and more bytes"), "does not start with journal_storage's magic number"},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, tt.content, 0o600))
			_, err := openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
			require.ErrorIs(t, err, errUnknownFormat)
			assert.ErrorContains(t, err, tt.want)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, tt.content, after, "a refused segment is left as it was")
		})
	}

	// The newest segment created when the crash came: started again.
	require.NoError(t, os.WriteFile(path, content, 0o600))
	newest := segmentPath(dir, 2)
	for _, torn := range [][]byte{{}, segmentHeader()[:5], make([]byte, segmentHeaderSize)} {
		require.NoError(t, os.WriteFile(newest, torn, 0o600))
		j = open(t, dir, 1<<20)
		got, err := j.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "kept", string(got))
		require.NoError(t, j.Set(ctx, "after", []byte("the crash")))
		require.NoError(t, j.Close(ctx))
		j = open(t, dir, 1<<20)
		requireContents(t, j, map[string][]byte{"k": []byte("kept"), "after": []byte("the crash")})
		require.NoError(t, j.Close(ctx))
		require.NoError(t, os.Remove(newest))
		require.NoError(t, os.WriteFile(path, content, 0o600))
	}
	// Not on an older one.
	require.NoError(t, os.WriteFile(path, segmentHeader()[:5], 0o600))
	require.NoError(t, os.WriteFile(newest, content, 0o600))
	_, err = openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
	require.ErrorIs(t, err, errUnknownFormat)
	assert.ErrorContains(t, err, "has no header, and it is not the newest segment")
}
