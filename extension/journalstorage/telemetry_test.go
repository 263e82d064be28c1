// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadatatest"
)

// TestTelemetry: each open journal reports its disk usage and live data
// under its client name, every flush its duration, and every failed batch
// its reason.
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

	const writes = 5
	for i := range writes {
		require.NoError(t, queue.Set(ctx, fmt.Sprint("key", i), make([]byte, 1000)))
	}
	require.NoError(t, queue.Delete(ctx, "key0"))
	j := queue.(*client).journal
	st := j.stats()
	require.EqualValues(t, 4*(4+1000), st.live)

	name := attribute.NewSet(attribute.String("client", "exporter_splunk_hec__logs"))
	metadatatest.AssertEqualJournalStorageDiskUsage(t, tt, []metricdata.DataPoint[int64]{{Attributes: name, Value: st.bytes}},
		metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualJournalStorageLiveData(t, tt, []metricdata.DataPoint[int64]{{Attributes: name, Value: st.live}},
		metricdatatest.IgnoreTimestamp())
	fsyncs, err := tt.GetMetric("otelcol_journal_storage_fsync_duration")
	require.NoError(t, err)
	points := fsyncs.Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, points, 1)
	require.Equal(t, name, points[0].Attributes)
	require.EqualValues(t, writes+1, points[0].Count, "one flush per batch written alone")

	// A batch on a closed client fails as an error; a full disk as full.
	require.NoError(t, queue.Close(ctx))
	require.Error(t, queue.Set(ctx, "late", nil))
	j.metrics.batchFailed(fmt.Errorf("wrapped: %w", storage.ErrStorageFull))
	j.metrics.batchFailed(context.Canceled) // the caller's doing, not counted
	withReason := func(reason string) attribute.Set {
		return attribute.NewSet(attribute.String("client", "exporter_splunk_hec__logs"), attribute.String("reason", reason))
	}
	metadatatest.AssertEqualJournalStorageBatchesFailed(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: withReason("error"), Value: 1},
		{Attributes: withReason("full"), Value: 1},
	}, metricdatatest.IgnoreTimestamp())

	// A closed journal is no longer reported.
	_, err = tt.GetMetric("otelcol_journal_storage_disk_usage")
	require.Error(t, err)
	require.NoError(t, ext.Shutdown(ctx))
}
