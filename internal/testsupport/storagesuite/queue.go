// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package storagesuite // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
)

type hostWithStorage struct {
	component.Host
	id      component.ID
	storage extension.Extension
}

func (h hostWithStorage) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{h.id: h.storage}
}

// StartExporter runs the contrib splunk_hec exporter with its persistent
// sending queue on the storage, configured on dir by cfg, against hec.
func StartExporter(t *testing.T, hec *hectest.HEC, s Storage, cfg component.Config) (exporter.Logs, func()) {
	t.Helper()
	ext, err := s.Factory.Create(context.Background(), extensiontest.NewNopSettings(s.Factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), nil))

	factory := splunkhecexporter.NewFactory()
	expCfg := factory.CreateDefaultConfig().(*splunkhecexporter.Config)
	expCfg.ClientConfig.Endpoint = hec.URL
	expCfg.Token = configopaque.String(hectest.Token)
	expCfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	expCfg.BackOffConfig.MaxInterval = 50 * time.Millisecond
	expCfg.BackOffConfig.MaxElapsedTime = 0
	queue := exporterhelper.NewDefaultQueueConfig()
	id := s.ID()
	queue.StorageID = &id
	queue.NumConsumers = 2
	queue.QueueSize = 100_000 // requests: the disk, not the queue, is what fills
	expCfg.QueueSettings = configoptional.Some(queue)
	// The queue's storage is named after the exporter's ID: the same one
	// after a restart finds it.
	settings := exportertest.NewNopSettings(factory.Type())
	settings.ID = component.NewID(factory.Type())
	exp, err := factory.CreateLogs(context.Background(), settings, expCfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), hostWithStorage{id: id, storage: ext}))
	stop := func() {
		require.NoError(t, exp.Shutdown(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()))
	}
	return exp, stop
}

// Logs makes n log records with the ids from, from+1, ... as bodies, each
// about 2 KB.
func Logs(from, n int) plog.Logs {
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := from; i < from+n; i++ {
		r := records.AppendEmpty()
		r.Body().SetStr(fmt.Sprintf("event-%05d", i))
		r.Attributes().PutStr("padding", string(make([]byte, 2000)))
	}
	return logs
}

// ExporterQueue: the exporter's queue accepts while Splunk is down, keeps
// everything across a restart, and delivers each event once when Splunk is
// back.
func ExporterQueue(t *testing.T, s Storage) {
	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	dir := t.TempDir()
	exp, stop := StartExporter(t, hec, s, s.Config(dir))
	const requests, perRequest = 40, 50
	for i := range requests {
		require.NoError(t, exp.ConsumeLogs(context.Background(), Logs(i*perRequest, perRequest)))
	}
	stop()
	hec.SetStatus(0)
	_, stop = StartExporter(t, hec, s, s.Config(dir))
	defer stop()
	RequireEachOnce(t, hec, requests*perRequest)
}

// DiskFull fills a real filesystem, a tmpfs of the given size, with the
// exporter's queue while Splunk is down: new items must be refused as
// storage.ErrStorageFull, never taken and lost; when Splunk comes back,
// every event accepted must arrive exactly once, although the queue must
// write to the full disk to drain (its read index, the deletion of each
// item sent); and once drained, the disk has room for new items again.
// With hog, another program then takes every byte left on the volume
// before the queue drains. It must run in a process of its own with its
// own user and mount namespaces (childtest.Run with
// UserAndMountNamespaces).
func DiskFull(t *testing.T, s Storage, cfg func(dir string) component.Config, dir, size string, hog bool) {
	ctx := context.Background()
	// Mounts made here must not reach the parent's namespace.
	require.NoError(t, syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""))
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size))
	// The mount namespace is this process's own and ends with it: unmounting is tidiness.
	defer func() { _ = syscall.Unmount(dir, 0) }()

	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	exp, stop := StartExporter(t, hec, s, cfg(dir))
	defer stop()

	// Small requests, many to a megabyte: draining costs the queue many
	// writes on the full disk.
	const perRequest = 4
	accepted := 0
	var refused error
	for i := 0; i < 10_000 && refused == nil; i++ {
		if refused = exp.ConsumeLogs(ctx, Logs(accepted, perRequest)); refused == nil {
			accepted += perRequest
		}
	}
	require.Error(t, refused, "the disk never filled")
	t.Logf("accepted %d events before the disk was full: %v", accepted, refused)
	require.ErrorIs(t, refused, storage.ErrStorageFull)
	require.Greater(t, accepted, 100*perRequest)

	hogPath := dir + "/hog"
	if hog {
		fillDisk(t, hogPath)
	}
	hec.SetStatus(0)
	RequireEachOnce(t, hec, accepted)
	if hog {
		require.NoError(t, os.Remove(hogPath))
	}

	// Drained: the space came back, and new items fit again.
	require.Eventually(t, func() bool {
		return exp.ConsumeLogs(ctx, Logs(accepted, perRequest)) == nil
	}, 30*time.Second, 100*time.Millisecond, "new items are refused after the queue drained")
	RequireEachOnce(t, hec, accepted+perRequest)
}

// fillDisk writes a file at path until the volume has no room left.
func fillDisk(t *testing.T, path string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	for len(chunk) > 1 { // the last blocks
		chunk = chunk[:len(chunk)/2]
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
	}
}

// UserAndMountNamespaces are the SysProcAttr of a child process in which
// DiskFull may mount a tmpfs.
func UserAndMountNamespaces() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
}

// RequireEachOnce waits for want distinct events at the HEC and checks
// that none arrived twice.
func RequireEachOnce(t *testing.T, hec *hectest.HEC, want int) {
	t.Helper()
	// A bound on liveness, wide for the race detector on a busy machine.
	var got atomic.Int64
	delivered := assert.Eventually(t, func() bool {
		got.Store(int64(len(hec.Events())))
		return got.Load() >= int64(want)
	}, 2*time.Minute, 20*time.Millisecond)
	require.True(t, delivered, "%d of %d events delivered", got.Load(), want)
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	seen := map[string]int{}
	for _, ev := range hec.Events() {
		seen[fmt.Sprint(ev["event"])]++
	}
	require.Len(t, seen, want)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
	}
}
