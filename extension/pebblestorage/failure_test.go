//go:build linux

package pebblestorage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"
)

// TestFailedFsyncStopsTheProcess injects a failure into the fsync of the
// write-ahead log under a batch: after a failed fsync the kernel may have
// dropped the data it covered (and reports the failure once), so the
// batch must not be acknowledged, nor any after it. Pebble cannot go on
// from it: the store ends the process with a log line that says why, and
// at the restart what was acknowledged before is there.
func TestFailedFsyncStopsTheProcess(t *testing.T) {
	dir, code, out := childtest.Exit(t, "PEBBLE_FSYNC_FAILURE_DIR", func(t *testing.T, dir string) {
		ctx := context.Background()
		inject := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
			if (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) &&
				strings.HasSuffix(op.Path, ".log") {
				return errorfs.ErrInjected
			}
			return nil
		})}
		opts := testOptions()
		opts.fs = errorfs.Wrap(vfs.Default, inject)
		logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(os.Stdout), zap.InfoLevel))
		c, err := openClient(filepath.Join(dir, "store"), 0o750, opts, logger)
		require.NoError(t, err)
		require.NoError(t, c.Set(ctx, "acknowledged", []byte("before")))
		inject.On()
		err = c.Set(ctx, "unacknowledged", []byte("after"))
		t.Logf("the batch returned: %v", err)
	})
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "Pebble storage cannot go on", out)
	assert.Contains(t, out, "injected error", out)
	assert.NotContains(t, out, "the batch returned", out)

	c := openTest(t, filepath.Join(dir, "store"), testOptions())
	defer c.Close(context.Background())
	got, err := c.Get(context.Background(), "acknowledged")
	require.NoError(t, err)
	assert.Equal(t, "before", string(got))
}
