// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// TestFailedFsyncFailsTheWritesItCovered injects a failed fsync under a
// batch and, before the failure is returned, rotates to a new segment,
// whose flush of the old one succeeds: Linux reports a failed writeback
// to one fsync only, so the rotation's success says nothing of the data
// the failed fsync covered. The batch must fail, and every write after it.
func TestFailedFsyncFailsTheWritesItCovered(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(map[bool]string{false: "alone", true: "rotation meanwhile"}[rotate], func(t *testing.T) {
			ctx := context.Background()
			j := open(t, t.TempDir(), 1<<20)
			defer j.Close(ctx)
			require.NoError(t, j.Set(ctx, "acknowledged", []byte("before")))

			injected := errors.New("injected: writeback failed")
			var failNext atomic.Bool
			j.syncFile = func(f *os.File) error {
				if !failNext.CompareAndSwap(true, false) {
					return f.Sync()
				}
				if rotate {
					// The rotation runs while this fsync is in flight; its own
					// fsync of the same segment reports nothing.
					j.mu.Lock()
					require.NoError(t, j.rotateLocked(true))
					j.mu.Unlock()
				}
				return injected
			}
			failNext.Store(true)
			err := j.Set(ctx, "covered", []byte("lost"))
			require.ErrorIs(t, err, injected)
			assert.ErrorContains(t, err, "takes no more writes until the collector restarts")
			require.ErrorIs(t, j.Batch(ctx, storage.SetOperation("later", nil)), injected)
			if rotate {
				assert.Len(t, j.segments, 2, "the rotation happened")
			}
		})
	}
}
