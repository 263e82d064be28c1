// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadata"
)

// The default is durable: fsync on, 64 MiB segments, a directory others
// cannot read. With a directory it starts and stops.
func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig().(*Config)
	assert.True(t, cfg.Fsync)
	assert.Equal(t, 64, cfg.SegmentSizeMiB)
	assert.Equal(t, "0750", cfg.DirectoryPermissions)

	cfg.Directory = t.TempDir()
	require.NoError(t, cfg.Validate())
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, ext.Shutdown(context.Background()))
}
