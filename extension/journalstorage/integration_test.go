package journalstorage

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagetest"
)

var storageID = component.MustNewID("journal_storage")

type hostWithStorage struct {
	component.Host
	storage extension.Extension
}

func (h hostWithStorage) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{storageID: h.storage}
}

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
	return startExporterOn(t, hec, extFactory, extCfg)
}

// startExporterOn runs the exporter with its queue in the given storage
// extension, registered under storageID.
func startExporterOn(t *testing.T, hec *hectest.HEC, extFactory extension.Factory, extCfg component.Config) (exporter.Logs, func()) {
	t.Helper()
	ext, err := extFactory.Create(context.Background(), extensiontest.NewNopSettings(extFactory.Type()), extCfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), nil))

	factory := splunkhecexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*splunkhecexporter.Config)
	cfg.ClientConfig.Endpoint = hec.URL
	cfg.Token = configopaque.String(hectest.Token)
	cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 0
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.StorageID = &storageID
	queue.NumConsumers = 2
	queue.QueueSize = 100_000 // requests: the disk, not the queue, is what fills
	cfg.QueueSettings = configoptional.Some(queue)
	// The queue's storage is named after the exporter's ID: the same one
	// after the restart finds it.
	settings := exportertest.NewNopSettings(factory.Type())
	settings.ID = component.NewID(factory.Type())
	exp, err := factory.CreateLogs(context.Background(), settings, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), hostWithStorage{storage: ext}))
	stop := func() {
		require.NoError(t, exp.Shutdown(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()))
	}
	return exp, stop
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
	storagetest.RequireEachOnce(t, hec, requests*perRequest)
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
