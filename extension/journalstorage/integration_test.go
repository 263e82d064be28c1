// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"
)

// startQueuedExporter runs the contrib splunk_hec exporter with its
// persistent sending queue in a journal_storage extension on dir.
func startQueuedExporter(t *testing.T, hec *hectest.HEC, dir string) (exporter.Logs, func()) {
	t.Helper()
	return startQueuedExporterWith(t, hec, dir, 1)
}

func startQueuedExporterWith(t *testing.T, hec *hectest.HEC, dir string, segmentSizeMiB int) (exporter.Logs, func()) {
	t.Helper()
	extFactory := NewFactory()
	extCfg := extFactory.CreateDefaultConfig().(*Config)
	extCfg.Directory = dir
	extCfg.SegmentSizeMiB = segmentSizeMiB
	require.NoError(t, extCfg.Validate())
	storage := storagesuite.Storage{Name: "journal_storage", Factory: extFactory}
	return storagesuite.StartExporter(t, hec, storage, extCfg)
}

func logsWithIDs(from, n int) plog.Logs {
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := from; i < from+n; i++ {
		r := records.AppendEmpty()
		r.Body().SetStr(fmt.Sprintf("event-%05d", i))
		r.Attributes().PutStr("padding", string(make([]byte, 2000)))
	}
	return logs
}

// TestPersistentQueueOnJournal: the exporter's queue accepts while Splunk
// is down, keeps everything across a restart, delivers each event once
// when Splunk is back, and the journal gives the space back.
func TestPersistentQueueOnJournal(t *testing.T) {
	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	dir := t.TempDir()

	exp, stop := startQueuedExporter(t, hec, dir)
	const requests, perRequest = 40, 50
	for i := range requests {
		require.NoError(t, exp.ConsumeLogs(context.Background(), logsWithIDs(i*perRequest, perRequest)))
	}
	stop()
	clientDir := filepath.Join(dir, "exporter_splunk_hec__logs")
	before := dirSize(t, clientDir)
	assert.Greater(t, before, int64(requests*perRequest*2000), "the queue is on disk")

	hec.SetStatus(0)
	_, stop = startQueuedExporter(t, hec, dir)
	defer stop()
	storagesuite.RequireEachOnce(t, hec, requests*perRequest)
	require.Eventually(t, func() bool { return dirSize(t, clientDir) < 1<<20 }, 5*time.Second, 20*time.Millisecond,
		"drained: whole segments given back (%d bytes before)", before)
}

func dirSize(t *testing.T, dir string) int64 {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var size int64
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		size += info.Size()
	}
	return size
}
