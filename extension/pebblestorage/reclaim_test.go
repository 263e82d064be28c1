package pebblestorage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// TestReclaimGivesSpaceBack: a backlog that reached the tables, then sent
// (deleted) while nothing more came in, gives its disk space back at the
// next reclaim, without waiting for the memtable to fill.
func TestReclaimGivesSpaceBack(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, t.TempDir(), testOptions())
	defer c.Close(ctx)
	item := make([]byte, 100<<10)
	for i := range 200 { // 20 MiB through a 1 MiB memtable
		require.NoError(t, c.Batch(ctx, storage.SetOperation("meta", []byte(fmt.Sprint(i))), storage.SetOperation(fmt.Sprint(i), item)))
	}
	before, _ := c.diskUsage()
	require.Greater(t, before, int64(15<<20), "the backlog is in the tables")
	for i := range 200 {
		require.NoError(t, c.Batch(ctx, storage.SetOperation("meta", []byte(fmt.Sprint(i))), storage.DeleteOperation(fmt.Sprint(i))))
	}
	c.reclaim.mu.Lock()
	c.reclaim.last = time.Now().Add(-reclaimInterval) // a minute went by
	c.reclaim.mu.Unlock()
	require.NoError(t, c.Set(ctx, "meta", []byte("drained")))
	require.NoError(t, c.Delete(ctx, "none")) // the next deletion starts it
	require.Eventually(t, func() bool {
		usage, _ := c.diskUsage()
		return usage < 4<<20
	}, 20*time.Second, 50*time.Millisecond, "the space of what was sent is given back (%d bytes before)", before)
}
