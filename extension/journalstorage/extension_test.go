// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func writeFile(path string) error { return os.WriteFile(path, []byte("x"), 0o600) }

func startExtension(t *testing.T, dir string) storage.Extension {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.CreateDirectory = true
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(NewFactory().Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext.(storage.Extension)
}

// TestClientsAreSeparate: each component gets its own journal, named as
// file_storage names its files, and survives the extension's restart.
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
	require.ErrorContains(t, err, "in use by another process or client")

	require.NoError(t, queue.Set(ctx, "k", []byte("queue")))
	require.NoError(t, other.Set(ctx, "k", []byte("other")))
	for _, name := range []string{"exporter_splunk_hec_main_logs", "receiver_auth0login_a~002Fb~0020c"} {
		assert.DirExists(t, filepath.Join(dir, name))
	}
	require.NoError(t, queue.Close(ctx))
	// Shutdown closes what a component left open.
	require.NoError(t, ext.Shutdown(ctx))
	require.ErrorIs(t, other.Set(ctx, "k", nil), errClosed)

	ext = startExtension(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	queue, err = ext.GetClient(ctx, component.KindExporter, exporterID, "logs")
	require.NoError(t, err)
	value, err := queue.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "queue", string(value))
}
