package journalstorage

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// BenchmarkQueueItem replays what the exporters' persistent queue does to
// its storage for one item (exporterhelper v0.144.0): Offer writes the
// metadata and the item, the read writes the metadata and gets the item,
// the end deletes it and writes the metadata, with a backlog of items
// queued, each fsynced. The baseline is contrib's file_storage, the same
// calls in the same process; compare the two sub-benchmarks' ns/op and B/op.
func BenchmarkQueueItem(b *testing.B) {
	for _, size := range []int{20 << 10, 200 << 10} {
		for _, backlog := range []int{8, 256} {
			for _, kind := range []string{"file_storage", "journal_storage"} {
				b.Run(fmt.Sprintf("%s/item=%dKiB/backlog=%d", kind, size>>10, backlog), func(b *testing.B) {
					client := benchClient(b, kind)
					ctx := context.Background()
					item := make([]byte, size)
					meta := make([]byte, 54)
					for i := range backlog {
						require.NoError(b, client.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation(fmt.Sprint(i), item)))
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					b.ResetTimer()
					for i := range b.N {
						write, read := fmt.Sprint(backlog+i), fmt.Sprint(i)
						require.NoError(b, client.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation(write, item)))
						get := storage.GetOperation(read)
						require.NoError(b, client.Batch(ctx, storage.SetOperation("qmv0", meta), get))
						require.Len(b, get.Value, size)
						require.NoError(b, client.Batch(ctx, storage.SetOperation("qmv0", meta), storage.DeleteOperation(read)))
					}
				})
			}
		}
	}
}

func benchClient(b *testing.B, kind string) storage.Client {
	var factory extension.Factory
	var cfg component.Config
	switch kind {
	case "file_storage":
		factory = filestorage.NewFactory()
		c := factory.CreateDefaultConfig().(*filestorage.Config)
		c.Directory, c.FSync = b.TempDir(), true
		cfg = c
	default:
		factory = NewFactory()
		c := factory.CreateDefaultConfig().(*Config)
		c.Directory = b.TempDir()
		cfg = c
	}
	ext, err := factory.Create(context.Background(), extensiontest.NewNopSettings(factory.Type()), cfg)
	require.NoError(b, err)
	require.NoError(b, ext.Start(context.Background(), componenttest.NewNopHost()))
	client, err := ext.(storage.Extension).GetClient(context.Background(), component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(b, err)
	b.Cleanup(func() {
		require.NoError(b, client.Close(context.Background()))
		require.NoError(b, ext.Shutdown(context.Background()))
	})
	return client
}
