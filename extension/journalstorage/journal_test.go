// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"
)

func open(t testing.TB, dir string, segmentSize int64) *journal {
	t.Helper()
	j, err := openJournal(dir, options{fsync: true, segmentSize: segmentSize}, zap.NewNop())
	require.NoError(t, err)
	return j
}

// crash drops a journal without Close: its files stay as the writes left
// them (the page cache holds what a process crash keeps).
func crash(j *journal) {
	for _, seg := range j.segments {
		seg.file.Close()
	}
	_ = j.unlock()
}

func requireContents(t *testing.T, j *journal, model map[string][]byte) {
	t.Helper()
	require.Len(t, j.index, len(model))
	for key, want := range model {
		got, err := j.Get(context.Background(), key)
		require.NoError(t, err)
		require.Equal(t, want, got, "key %s", key)
	}
}

func TestBatchSemantics(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir(), 1<<20)
	defer j.Close(ctx)

	missing, err := j.Get(ctx, "missing")
	require.NoError(t, err)
	assert.Nil(t, missing)
	require.NoError(t, j.Delete(ctx, "missing"))

	require.NoError(t, j.Set(ctx, "empty", nil))
	empty, err := j.Get(ctx, "empty")
	require.NoError(t, err)
	assert.NotNil(t, empty, "a key set to nothing exists")
	assert.Empty(t, empty)

	// A Get sees the batch's earlier operations, not its later ones.
	require.NoError(t, j.Set(ctx, "k", []byte("old")))
	before, afterSet, afterDelete := storage.GetOperation("k"), storage.GetOperation("k"), storage.GetOperation("k")
	require.NoError(t, j.Batch(ctx, before, storage.SetOperation("k", []byte("new")), afterSet,
		storage.DeleteOperation("k"), afterDelete, storage.SetOperation("k", []byte("last"))))
	assert.Equal(t, "old", string(before.Value))
	assert.Equal(t, "new", string(afterSet.Value))
	assert.Nil(t, afterDelete.Value)
	last, err := j.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "last", string(last))

	// The caller owns what Get returns, and what it passed to Set.
	value := []byte("value")
	require.NoError(t, j.Set(ctx, "owned", value))
	value[0] = 'X'
	got, _ := j.Get(ctx, "owned")
	got[1] = 'Y'
	again, _ := j.Get(ctx, "owned")
	assert.Equal(t, "value", string(again))

	assert.ErrorContains(t, j.Batch(ctx, &storage.Operation{Key: "k", Type: storage.OpType(7)}), "unknown operation type 7")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, j.Set(cancelled, "k", nil), context.Canceled)
}

// TestMatchesModel drives random batches against a map and checks the
// journal agrees with it throughout, across clean restarts and crashes,
// with segments small enough that rotation and compaction happen often.
func TestMatchesModel(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const segmentSize = 64 << 10
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string][]byte{}
	j := open(t, dir, segmentSize)
	for round := range 40 {
		for range 50 {
			ops, check := storagesuite.RandomBatch(t, rng, model)
			require.NoError(t, j.Batch(ctx, ops...))
			check()
		}
		requireContents(t, j, model)
		if round%2 == 0 {
			crash(j)
		} else {
			require.NoError(t, j.Close(ctx))
		}
		j = open(t, dir, segmentSize)
		requireContents(t, j, model)
	}
	// Space comes back: with at most 30 keys of < 9 KB live, old segments go.
	st := j.stats()
	assert.LessOrEqual(t, st.segments, 8, "segments kept: %+v", st)
	require.NoError(t, j.Close(ctx))
}

// TestTornTail cuts the newest segment at every byte of its last record:
// reopening drops that record, which was never acknowledged, and keeps
// all before it. Zeros or garbage after the last record are dropped too.
func TestTornTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := open(t, dir, 1<<20)
	require.NoError(t, j.Set(ctx, "a", []byte("first")))
	require.NoError(t, j.Batch(ctx, storage.SetOperation("b", []byte("second")), storage.DeleteOperation("a")))
	path := j.active().path
	whole := j.active().size
	third := append([]byte("third, cut short"), make([]byte, largeValue)...) // written in place
	require.NoError(t, j.Set(ctx, "c", third))
	full := j.active().size
	require.NoError(t, j.Close(ctx))
	content, err := os.ReadFile(path)
	require.NoError(t, err)

	for cut := whole; cut < full; cut++ {
		// Every byte of the record's head and tail, a sample of its value.
		if cut > whole+64 && cut < full-64 && (cut-whole)%97 != 0 {
			continue
		}
		require.NoError(t, os.WriteFile(path, content[:cut], 0o600))
		// Without fsync: cutting the tail flushes it, slowly on some disks.
		j, err := openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
		require.NoError(t, err)
		requireContents(t, j, map[string][]byte{"b": []byte("second")})
		require.Equal(t, whole, j.active().size, "cut at %d", cut)
		require.NoError(t, j.Close(ctx))
	}
	for _, tail := range [][]byte{make([]byte, 64), []byte("garbage that is no record at all")} {
		require.NoError(t, os.WriteFile(path, append(append([]byte{}, content...), tail...), 0o600))
		j := open(t, dir, 1<<20)
		requireContents(t, j, map[string][]byte{"b": []byte("second"), "c": third})
		// Appending after the cut works and survives.
		require.NoError(t, j.Set(ctx, "d", []byte("after")))
		require.NoError(t, j.Close(ctx))
		j = open(t, dir, 1<<20)
		requireContents(t, j, map[string][]byte{"b": []byte("second"), "c": third, "d": []byte("after")})
		require.NoError(t, j.Close(ctx))
	}
}

// TestFlippedBit: a record whose checksum fails in an older segment is
// damage, not a torn write, and opening says so instead of dropping
// everything after it.
func TestDamagedOlderSegmentRefusesToOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := open(t, dir, 1<<10)
	for i := range 10 {
		require.NoError(t, j.Set(ctx, strconv.Itoa(i), make([]byte, 600)))
	}
	require.Greater(t, len(j.segments), 2)
	first := j.segments[0].path
	require.NoError(t, j.Close(ctx))

	content, err := os.ReadFile(first)
	require.NoError(t, err)
	content[segmentHeaderSize+recordHeaderSize+5] ^= 0x40
	require.NoError(t, os.WriteFile(first, content, 0o600))
	_, err = openJournal(dir, options{fsync: true, segmentSize: 1 << 10}, zap.NewNop())
	require.ErrorContains(t, err, "is damaged at byte 16")
	require.ErrorContains(t, err, "not a write a crash cut short")
}

func TestCompactionFreesPinnedSegments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	core, logs := observer.New(zap.DebugLevel)
	j, err := openJournal(dir, options{fsync: true, segmentSize: 16 << 10}, zap.New(core))
	require.NoError(t, err)
	defer j.Close(ctx)
	// One value that never goes, then a queue's worth of items that come
	// and go behind it: the segment holding the first must not pin the rest.
	require.NoError(t, j.Set(ctx, "pinned", []byte("stays forever")))
	for i := range 500 {
		key := fmt.Sprint("item", i)
		require.NoError(t, j.Set(ctx, key, make([]byte, 1000)))
		require.NoError(t, j.Delete(ctx, key))
	}
	st := j.stats()
	assert.LessOrEqual(t, st.segments, 3, "%+v", st)
	assert.Less(t, st.bytes, int64(3*16<<10))
	assert.NotZero(t, logs.FilterMessage("Journal segment compacted").Len())
	pinned, err := j.Get(ctx, "pinned")
	require.NoError(t, err)
	assert.Equal(t, "stays forever", string(pinned))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, st.segments+1, "segment files and the lock file")
}

// TestConcurrentBatches: concurrent writers share fsyncs and every
// acknowledged write is there after a crash.
func TestConcurrentBatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := open(t, dir, 256<<10)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				key := fmt.Sprintf("w%d-%d", w, i)
				assert.NoError(t, j.Batch(ctx, storage.SetOperation(key, []byte(key)), storage.SetOperation("meta", []byte(key))))
				if i%2 == 0 {
					assert.NoError(t, j.Delete(ctx, key))
				}
			}
		})
	}
	wg.Wait()
	crash(j)
	j = open(t, dir, 256<<10)
	defer j.Close(ctx)
	for w := range 8 {
		for i := range 100 {
			key := fmt.Sprintf("w%d-%d", w, i)
			got, err := j.Get(ctx, key)
			require.NoError(t, err)
			if i%2 == 0 {
				require.Nil(t, got, key)
			} else {
				require.Equal(t, key, string(got))
			}
		}
	}
	meta, err := j.Get(ctx, "meta")
	require.NoError(t, err)
	assert.Regexp(t, `^w\d-99$`, string(meta))
}

// TestFailedWriteIsRefusedAfter: a journal that could not write nor cut
// off the write refuses everything after, with the reason.
func TestFailedWriteIsRefusedAfter(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir(), 1<<20)
	require.NoError(t, j.Set(ctx, "a", []byte("kept")))
	j.active().file.Close() // the disk goes away under it
	err := j.Set(ctx, "b", []byte("lost"))
	require.ErrorContains(t, err, "takes no more writes until the collector restarts")
	require.ErrorIs(t, j.Set(ctx, "c", nil), err)
	_, err = j.Get(ctx, "a")
	require.Error(t, err)
	assert.NoError(t, j.Close(ctx))
	assert.ErrorIs(t, j.Set(ctx, "d", nil), errClosed)
}
