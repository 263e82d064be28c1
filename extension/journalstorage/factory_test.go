// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadata"
)

func TestFactoryType(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.ExtensionStability, f.Stability())
}

// The default configuration syncs every batch to disk and is refused until
// a directory is set: there is no safe place to guess.
func TestCreateDefaultConfig(t *testing.T) {
	cfg, ok := NewFactory().CreateDefaultConfig().(*Config)
	require.True(t, ok)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	assert.True(t, cfg.Fsync)
	assert.Equal(t, "0750", cfg.DirectoryPermissions)
	assert.Equal(t, 64, cfg.SegmentSizeMiB)
	assert.ErrorContains(t, cfg.Validate(), "directory must be set")

	cfg.Directory = t.TempDir()
	assert.NoError(t, cfg.Validate())
}

func TestCreateExtensionWithDefaultConfig(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	ext, err := f.Create(t.Context(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NotNil(t, ext)
	_, isStorage := ext.(storage.Extension)
	assert.True(t, isStorage, "the exporters' persistent queue finds it as a storage extension")
	require.NoError(t, ext.Start(t.Context(), componenttest.NewNopHost()))
	require.NoError(t, ext.Shutdown(t.Context()))
}
