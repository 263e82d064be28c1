// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package storagesuite // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// QueueItem replays what the exporters' persistent queue does to its
// storage for one item (the exporter helper's persistent queue): Offer writes the
// metadata and the item, the read writes the metadata and gets the item,
// the end deletes it and writes the metadata, with a backlog of items
// queued, each batch durable before it returns.
func QueueItem(b *testing.B, s Storage, size, backlog int) {
	c, closeStore := s.Open(b, b.TempDir())
	defer closeStore()
	ctx := context.Background()
	item := make([]byte, size)
	for i := range item {
		item[i] = byte(i * 7) // not all zeros: a store may compress
	}
	meta := make([]byte, 54)
	for i := range backlog {
		require.NoError(b, c.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation(strconv.Itoa(i), item)))
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		write, read := strconv.Itoa(backlog+i), strconv.Itoa(i)
		require.NoError(b, c.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation(write, item)))
		get := storage.GetOperation(read)
		require.NoError(b, c.Batch(ctx, storage.SetOperation("qmv0", meta), get))
		require.Len(b, get.Value, size)
		require.NoError(b, c.Batch(ctx, storage.SetOperation("qmv0", meta), storage.DeleteOperation(read)))
	}
	b.StopTimer()
}
