package pebblestorage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage/internal/metadatatest"
)

func startExtension(t *testing.T, dir string) storage.Extension {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.CreateDirectory = true
	cfg.MemTableSizeMiB, cfg.ReserveMiB = 1, 1
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext.(storage.Extension)
}

// TestClientsAreSeparate: each component gets its own store, named as
// file_storage names its files, locked against a second opening, and kept
// across the extension's restart.
func TestClientsAreSeparate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "created")
	ext := startExtension(t, dir)
	exporterID := component.MustNewIDWithName("splunk_hec", "main")
	queue, err := ext.GetClient(ctx, component.KindExporter, exporterID, "logs")
	require.NoError(t, err)
	other, err := ext.GetClient(ctx, component.KindReceiver, component.MustNewIDWithName("auth0login", "a/b c"), "")
	require.NoError(t, err)
	_, err = ext.GetClient(ctx, component.KindExporter, exporterID, "logs")
	require.ErrorContains(t, err, "lock")

	require.NoError(t, queue.Set(ctx, "k", []byte("queue")))
	require.NoError(t, other.Set(ctx, "k", []byte("other")))
	for _, name := range []string{"exporter_splunk_hec_main_logs", "receiver_auth0login_a~002Fb~0020c"} {
		assert.FileExists(t, filepath.Join(dir, name, formatFile))
		assert.FileExists(t, filepath.Join(dir, name, reserveFile))
	}
	require.NoError(t, queue.Close(ctx))
	// Shutdown closes what a component left open.
	require.NoError(t, ext.Shutdown(ctx))
	require.ErrorIs(t, other.Set(ctx, "k", nil), errClosed)
	_, err = other.Get(ctx, "k")
	require.ErrorIs(t, err, errClosed)
	require.NoError(t, other.Close(ctx), "closing twice")

	ext = startExtension(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	queue, err = ext.GetClient(ctx, component.KindExporter, exporterID, "logs")
	require.NoError(t, err)
	value, err := queue.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "queue", string(value))
	assert.ErrorContains(t, queue.Batch(ctx, &storage.Operation{Key: "k", Type: storage.OpType(7)}), "unknown operation type 7")
}

// TestTelemetry: each open store reports its disk usage under its client
// name, and every failed batch its reason.
func TestTelemetry(t *testing.T) {
	ctx := context.Background()
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(ctx)) }()

	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	ext, err := NewFactory().Create(ctx, metadatatest.NewSettings(tt), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
	queue, err := ext.(storage.Extension).GetClient(ctx, component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, queue.Set(ctx, fmt.Sprint("key", i), make([]byte, 1000)))
	}
	usage, ok := queue.(*client).diskUsage()
	require.True(t, ok)
	require.Positive(t, usage)

	name := attribute.NewSet(attribute.String("client", "exporter_splunk_hec__logs"))
	got, err := tt.GetMetric("otelcol_pebble_storage_disk_usage")
	require.NoError(t, err)
	points := got.Data.(metricdata.Gauge[int64]).DataPoints
	require.Len(t, points, 1)
	require.Equal(t, name, points[0].Attributes)
	require.GreaterOrEqual(t, points[0].Value, usage)

	c := queue.(*client)
	require.NoError(t, queue.Close(ctx))
	require.Error(t, queue.Set(ctx, "late", nil))
	c.metrics.batchFailed(fmt.Errorf("wrapped: %w", storage.ErrStorageFull))
	c.metrics.batchFailed(context.Canceled) // the caller's doing, not counted
	withReason := func(reason string) attribute.Set {
		return attribute.NewSet(attribute.String("client", "exporter_splunk_hec__logs"), attribute.String("reason", reason))
	}
	metadatatest.AssertEqualPebbleStorageBatchesFailed(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: withReason("error"), Value: 1},
		{Attributes: withReason("full"), Value: 1},
	}, metricdatatest.IgnoreTimestamp())
	_, err = tt.GetMetric("otelcol_pebble_storage_disk_usage")
	require.Error(t, err, "a closed store is no longer reported")
	require.NoError(t, ext.Shutdown(ctx))
}

// TestReserve: the reserve file holds its bytes while the disk has room;
// when Pebble finds the disk full it is given up, and batches that add a
// key are refused as storage.ErrStorageFull while the others go on; it is
// held again once there is room.
func TestReserve(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	c := openTest(t, dir, testOptions())
	defer c.Close(ctx)
	info, err := os.Stat(filepath.Join(dir, reserveFile))
	require.NoError(t, err)
	require.EqualValues(t, 2<<20, info.Size())

	require.NoError(t, c.Set(ctx, "meta", []byte("1")))
	require.NoError(t, c.Set(ctx, "item", []byte("queued")))
	c.space.release() // what Pebble's write that found the disk full calls
	assert.NoFileExists(t, filepath.Join(dir, reserveFile))
	// The disk here has room: the reserve is simply taken back.
	require.NoError(t, c.Set(ctx, "new", []byte("item")))
	assert.FileExists(t, filepath.Join(dir, reserveFile))

	// Without room for it (a headroom no disk has), only batches that
	// add no key are taken.
	c.space.release()
	c.space.headroom = 1 << 62
	err = c.Batch(ctx, storage.SetOperation("meta", []byte("2")), storage.SetOperation("another", []byte("item")))
	require.ErrorIs(t, err, storage.ErrStorageFull)
	require.ErrorContains(t, err, "beyond the 2097152 bytes held back for draining the queue")
	get := storage.GetOperation("item")
	require.NoError(t, c.Batch(ctx, storage.SetOperation("meta", []byte("3")), get))
	assert.Equal(t, "queued", string(get.Value))
	require.NoError(t, c.Batch(ctx, storage.SetOperation("meta", []byte("4")), storage.DeleteOperation("item")))
	// Setting a new key twice in one batch still adds it.
	err = c.Batch(ctx, storage.SetOperation("x", []byte("1")), storage.SetOperation("x", []byte("2")))
	require.ErrorIs(t, err, storage.ErrStorageFull)
	got, err := c.Get(ctx, "another")
	require.NoError(t, err)
	assert.Nil(t, got, "a refused batch wrote nothing")
	meta, err := c.Get(ctx, "meta")
	require.NoError(t, err)
	assert.Equal(t, "4", string(meta))
}
