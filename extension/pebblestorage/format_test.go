package pebblestorage

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// TestFormat: a new store gets a FORMAT file with the magic number and the
// layout's version; a store whose FORMAT names another version, or that
// is not one (no magic, another extension's files), is refused with an
// error that says so, and nothing in it is touched.
func TestFormat(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	c := openTest(t, dir, testOptions())
	require.NoError(t, c.Set(ctx, "k", []byte("kept")))
	require.NoError(t, c.Close(ctx))

	content, err := os.ReadFile(filepath.Join(dir, formatFile))
	require.NoError(t, err)
	require.Equal(t, append(append([]byte{}, formatMagic...), 1, 0, 0, 0), content)

	refused := func(t *testing.T, content []byte, want ...string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(dir, formatFile), content, 0o600))
		_, err := openClient(dir, 0o750, testOptions(), zap.NewNop())
		require.ErrorIs(t, err, errUnknownFormat)
		for _, w := range want {
			assert.ErrorContains(t, err, w)
		}
	}
	t.Run("newer version", func(t *testing.T) {
		refused(t, binary.LittleEndian.AppendUint32(append([]byte{}, formatMagic...), 2),
			"was written in layout version 2, and this collector reads version 1 only")
	})
	t.Run("no magic number", func(t *testing.T) {
		refused(t, []byte("something else entirely"), "does not start with the pebble_storage magic number")
	})
	t.Run("version cut short", func(t *testing.T) {
		refused(t, append(append([]byte{}, formatMagic...), 1, 0), "2 bytes after the magic number where a version takes 4")
	})

	// Put back, the store opens with what it held.
	require.NoError(t, os.WriteFile(filepath.Join(dir, formatFile), content, 0o600))
	c = openTest(t, dir, testOptions())
	got, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "kept", string(got))
	require.NoError(t, c.Close(ctx))
}

// TestForeignDirectoryRefused: a directory this extension did not write, a
// journal_storage queue or a file_storage database at the store's path,
// is refused, not taken over.
func TestForeignDirectoryRefused(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "exporter_splunk_hec__logs")
	require.NoError(t, os.Mkdir(journal, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(journal, "0000000000000001.journal"), []byte("records"), 0o600))
	_, err := openClient(journal, 0o750, testOptions(), zap.NewNop())
	require.ErrorIs(t, err, errUnknownFormat)
	assert.ErrorContains(t, err, "holds 0000000000000001.journal but no FORMAT file")
	assert.NoFileExists(t, filepath.Join(journal, formatFile))

	bolt := filepath.Join(t.TempDir(), "exporter_splunk_hec__logs")
	require.NoError(t, os.WriteFile(bolt, []byte("a bbolt database"), 0o600))
	_, err = openClient(bolt, 0o750, testOptions(), zap.NewNop())
	assert.ErrorContains(t, err, "file_storage may have left it")

	// A crash while FORMAT was written leaves its temporary file alone.
	fresh := filepath.Join(t.TempDir(), "store")
	require.NoError(t, os.Mkdir(fresh, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(fresh, formatFile+".tmp"), []byte("\x89otel"), 0o600))
	c := openTest(t, fresh, testOptions())
	require.NoError(t, c.Close(context.Background()))
}
