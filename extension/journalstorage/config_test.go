// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tt := range []struct {
		id   component.ID
		want *Config
	}{
		{id: component.NewID(metadata.Type), want: &Config{
			Directory: "/var/lib/otelcol/journal", CreateDirectory: true,
			DirectoryPermissions: "0750", Fsync: true, SegmentSizeMiB: 64,
		}},
		{id: component.NewIDWithName(metadata.Type, "tuned"), want: &Config{
			Directory: "/var/lib/otelcol/journal", CreateDirectory: true,
			DirectoryPermissions: "0700", Fsync: false, SegmentSizeMiB: 16,
		}},
	} {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, writeFile(file))
	for name, tt := range map[string]struct {
		mutate func(*Config)
		errs   []string
	}{
		"no directory": {mutate: func(c *Config) { c.Directory = "" }, errs: []string{"directory must be set"}},
		"missing directory": {
			mutate: func(c *Config) { c.Directory = filepath.Join(t.TempDir(), "missing"); c.CreateDirectory = false },
			errs:   []string{"does not exist (set create_directory: true to create it)"},
		},
		"a file": {mutate: func(c *Config) { c.Directory = file; c.CreateDirectory = false }, errs: []string{"is not a directory"}},
		"permissions": {
			mutate: func(c *Config) { c.DirectoryPermissions = "rwx" },
			errs:   []string{`directory_permissions must be octal permission bits such as 0750, got "rwx"`},
		},
		"segment size": {mutate: func(c *Config) { c.SegmentSizeMiB = 0 }, errs: []string{"segment_size_mib must be between 1 and 1024, got 0"}},
		"everything at once": {
			mutate: func(c *Config) { c.Directory = ""; c.SegmentSizeMiB = 2048 },
			errs:   []string{"directory must be set", "segment_size_mib"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			cfg.Directory = t.TempDir()
			tt.mutate(cfg)
			err := cfg.Validate()
			for _, want := range tt.errs {
				assert.ErrorContains(t, err, want)
			}
		})
	}
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(t.TempDir(), "to-create")
	cfg.CreateDirectory = true
	assert.NoError(t, cfg.Validate(), "a directory to create need not exist yet")
}
