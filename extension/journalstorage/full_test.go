// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build linux

package journalstorage

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"
)

// outOfSpaceDirEnv runs TestOutOfSpace's body in a child process: the file
// size limit it sets is per process and would also stop the test binary's
// other writes.
const outOfSpaceDirEnv = "JOURNAL_OUT_OF_SPACE_DIR"

// fileSizeLimit is where the kernel stops the segment: in the middle of a
// record whose value is written in place, a piece at a time.
const fileSizeLimit = 100_000

// TestOutOfSpace runs the journal into a real write failure, the kernel's
// file size limit (RLIMIT_FSIZE: a short write, then EFBIG, as a full disk
// gives a short write, then ENOSPC), and checks that the batch that did
// not fit is refused as storage.ErrStorageFull, that the part of it that
// reached the file is cut off, that the journal keeps serving and takes
// writes again once there is room, and that a restart finds exactly what
// was acknowledged.
func TestOutOfSpace(t *testing.T) {
	childtest.Run(t, outOfSpaceDirEnv, nil, runOutOfSpace)
}

func runOutOfSpace(t *testing.T, dir string) {
	ctx := context.Background()
	var limit syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit))
	require.Greater(t, limit.Max, uint64(fileSizeLimit), "the hard file size limit is below what the test needs")

	core, logs := observer.New(zap.InfoLevel)
	j, err := openJournal(dir, options{fsync: true, segmentSize: 1 << 20}, zap.New(core))
	require.NoError(t, err)
	// The segment exists (it is created at open), so the limit below only
	// stops it from growing.
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: fileSizeLimit, Max: limit.Max}))

	model := map[string][]byte{}
	value := func(i int) []byte {
		v := make([]byte, 9_000) // above the in-place threshold: written as pieces
		for k := range v {
			v[k] = byte(i + k)
		}
		return v
	}
	var refused error
	acknowledged := 0
	for i := range 100 {
		key := fmt.Sprintf("item-%03d", i)
		if err := j.Batch(ctx, storage.SetOperation(key, value(i)), storage.SetOperation("meta", []byte(key))); err != nil {
			refused = err
			break
		}
		model[key], model["meta"] = value(i), []byte(key)
		acknowledged++
	}
	require.Error(t, refused, "the file size limit never stopped a write")
	require.ErrorIs(t, refused, storage.ErrStorageFull)
	require.ErrorIs(t, refused, syscall.EFBIG)
	require.Positive(t, acknowledged)

	seg := j.active()
	info, err := os.Stat(seg.path)
	require.NoError(t, err)
	assert.Equal(t, seg.size, info.Size(), "the part of the refused record that was written must be cut off")
	assert.Less(t, info.Size(), int64(fileSizeLimit))
	requireContents(t, j, model)

	// Running out of space is not a failure of the journal: deleting
	// frees nothing in a segment still written to, but a smaller batch
	// that fits is taken, and so is everything once the limit is lifted.
	require.NoError(t, j.Delete(ctx, "item-000"))
	delete(model, "item-000")
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit))
	for i := acknowledged; i < acknowledged+20; i++ {
		key := fmt.Sprintf("item-%03d", i)
		require.NoError(t, j.Batch(ctx, storage.SetOperation(key, value(i)), storage.SetOperation("meta", []byte(key))))
		model[key], model["meta"] = value(i), []byte(key)
	}
	requireContents(t, j, model)
	assert.Zero(t, logs.FilterMessage("Journal storage failed").Len(), "a full disk must not stop the journal for good")

	crash(j)
	reopened := open(t, dir, 1<<20)
	requireContents(t, reopened, model)
	require.NoError(t, reopened.Close(ctx))
}

// diskFullDirEnv runs TestDiskFull's body in a child process in its own
// user and mount namespaces, where it may mount a small tmpfs.
const diskFullDirEnv = "JOURNAL_DISK_FULL_DIR"

// TestDiskFull fills a real filesystem (a tmpfs of a few MiB) with the contrib
// splunk_hec exporter's persistent queue while Splunk is down. New items
// must be refused as storage.ErrStorageFull, never taken and lost; when
// Splunk comes back, every event that was accepted must arrive exactly
// once, although the queue must write to the full disk to drain (its read
// index, the deletion of each item sent); and once drained, the disk has
// room for new items again. Twice: with segments of 1 MiB, where draining
// frees whole segments, and with the default 64 MiB, where the one
// segment is larger than the disk and what was sent is only given back by
// moving the live values to a new segment.
func TestDiskFull(t *testing.T) {
	childtest.Run(t, diskFullDirEnv, &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}, func(t *testing.T, dir string) {
		for _, c := range []struct {
			segmentSizeMiB int
			disk           string
		}{{1, "3m"}, {64, "12m"}} { // the reserve is a 16th of a segment
			t.Run(fmt.Sprintf("segment_size_mib=%d", c.segmentSizeMiB), func(t *testing.T) {
				runDiskFull(t, filepath.Join(dir, strconv.Itoa(c.segmentSizeMiB)), c.disk, c.segmentSizeMiB)
			})
		}
	})
}

func runDiskFull(t *testing.T, disk, size string, segmentSizeMiB int) {
	ctx := context.Background()
	// Mounts made here must not reach the parent's namespace.
	require.NoError(t, syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""))
	require.NoError(t, os.Mkdir(disk, 0o700))
	require.NoError(t, syscall.Mount("tmpfs", disk, "tmpfs", 0, "size="+size))
	// The mount namespace is this process's own and ends with it: unmounting is tidiness.
	defer func() { _ = syscall.Unmount(disk, 0) }()

	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	exp, stop := startQueuedExporterWith(t, hec, disk, segmentSizeMiB)
	defer stop()

	// Small requests, many to a segment: draining one segment costs the
	// queue more writes than a full disk has left in its last page.
	const perRequest = 4
	accepted := 0
	var refused error
	for i := 0; i < 10_000 && refused == nil; i++ {
		if refused = exp.ConsumeLogs(ctx, logsWithIDs(accepted, perRequest)); refused == nil {
			accepted += perRequest
		}
	}
	require.Error(t, refused, "the disk never filled")
	require.ErrorIs(t, refused, storage.ErrStorageFull)
	require.ErrorIs(t, refused, syscall.ENOSPC)
	t.Logf("accepted %d events before the disk was full: %v", accepted, refused)
	require.Greater(t, accepted, 100*perRequest)

	hec.SetStatus(0)
	storagesuite.RequireEachOnce(t, hec, accepted)

	// Drained: whole segments were given back, and new items fit again.
	require.NoError(t, exp.ConsumeLogs(ctx, logsWithIDs(accepted, perRequest)))
	storagesuite.RequireEachOnce(t, hec, accepted+perRequest)
}
