//go:build linux

package pebblestorage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"
)

const tornBatches = 20

// TestTornTail: a crash in the middle of a write leaves the newest log cut
// anywhere in its last record, or followed by zeros or garbage. A process
// writes batches and exits without closing the store; the log is then cut
// at every byte of its last record's head and tail and at a sample of its
// value, and reopening must drop exactly that batch, which was never
// acknowledged, and keep all before it; the store then takes writes that
// survive a reopen.
func TestTornTail(t *testing.T) {
	dir, code, out := childtest.Exit(t, "PEBBLE_TORN_TAIL_DIR", func(t *testing.T, dir string) {
		c := openTest(t, filepath.Join(dir, "store"), testOptions())
		for i := range tornBatches {
			if i == tornBatches-1 {
				log := newestLog(t, filepath.Join(dir, "store"))
				info, err := os.Stat(log)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "before-last"), fmt.Appendf(nil, "%s %d", log, info.Size()), 0o600))
			}
			require.NoError(t, c.Batch(context.Background(), storage.SetOperation(fmt.Sprint(i), tornValue(i)), storage.SetOperation("meta", []byte(fmt.Sprint(i)))))
		}
		os.Exit(3) // a crash: nothing closed
	})
	require.Equal(t, 3, code, out)
	var log string
	var whole int64
	marker, err := os.ReadFile(filepath.Join(dir, "before-last"))
	require.NoError(t, err)
	_, err = fmt.Sscanf(string(marker), "%s %d", &log, &whole)
	require.NoError(t, err)
	content, err := os.ReadFile(log)
	require.NoError(t, err)
	full := int64(len(content))
	require.Greater(t, full, whole+4096, "the last batch is in the log")

	store := filepath.Join(dir, "store")
	pristine := filepath.Join(t.TempDir(), "pristine")
	require.NoError(t, os.CopyFS(pristine, os.DirFS(store)))
	relLog, err := filepath.Rel(store, log)
	require.NoError(t, err)

	check := func(t *testing.T, tail []byte, last int) {
		t.Helper()
		require.NoError(t, os.RemoveAll(store))
		require.NoError(t, os.CopyFS(store, os.DirFS(pristine)))
		require.NoError(t, os.WriteFile(filepath.Join(store, relLog), tail, 0o600))
		c := openTest(t, store, testOptions())
		defer func() { require.NoError(t, c.Close(context.Background())) }()
		meta, err := c.Get(context.Background(), "meta")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(last), string(meta))
		for i := range tornBatches {
			got, err := c.Get(context.Background(), fmt.Sprint(i))
			require.NoError(t, err)
			if i <= last {
				require.Equal(t, tornValue(i), got, "batch %d", i)
			} else {
				require.Nil(t, got, "batch %d, cut short, was never acknowledged", i)
			}
		}
		require.NoError(t, c.Set(context.Background(), "after", []byte("the cut")))
	}
	cuts := 0
	for cut := whole; cut < full; cut++ {
		if cut > whole+64 && cut < full-64 && (cut-whole)%257 != 0 {
			continue
		}
		check(t, content[:cut], tornBatches-2)
		cuts++
	}
	t.Logf("the last record cut at %d places", cuts)
	for _, tail := range [][]byte{make([]byte, 64), []byte("garbage that is no record at all")} {
		check(t, slices.Concat(content, tail), tornBatches-1)
	}
}

func tornValue(i int) []byte {
	return []byte(strings.Repeat(fmt.Sprintf("value %d ", i), 1000))
}

// newestLog is the path of the store's newest write-ahead log.
func newestLog(t *testing.T, store string) string {
	logs, err := filepath.Glob(filepath.Join(store, dbDir, "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	slices.Sort(logs)
	return logs[len(logs)-1]
}
