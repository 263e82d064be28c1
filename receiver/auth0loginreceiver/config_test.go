// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.MustNewIDWithName(metadata.Type.String(), name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestLoadConfig(t *testing.T) {
	def := loadConfig(t, "")
	require.NoError(t, confmap.Validate(def))
	assert.Equal(t, "localhost:8080", def.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, "/auth0/logs", def.LogsPath)
	assert.Equal(t, "/auth0/actions", def.ActionsPath)
	assert.Equal(t, configopaque.String("s3cret-token"), def.Secret)
	assert.Equal(t, DedupeConfig{Window: time.Hour, MaxEntries: 200_000}, def.Dedupe)
	assert.Equal(t, 5*time.Second, def.RetryAfter)
	assert.Equal(t, 1<<20, def.MaxRecordSize)
	assert.Equal(t, int64(4<<20), def.ServerConfig.MaxRequestBodySize)
	assert.Equal(t, []string{"gzip"}, def.ServerConfig.CompressionAlgorithms)
	assert.Equal(t, 10_000, def.MaxRequestRecords)
	assert.Equal(t, int64(128), def.AdmissionMemoryMiB)
	assert.Equal(t, DrainConfig{Timeout: 25 * time.Second}, def.Drain)

	custom := loadConfig(t, "custom")
	require.NoError(t, confmap.Validate(custom))
	assert.Equal(t, "0.0.0.0:9443", custom.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, "/hooks/auth0", custom.LogsPath)
	assert.Equal(t, "/hooks/auth0-action", custom.ActionsPath)
	assert.Equal(t, int64(1048576), custom.ServerConfig.MaxRequestBodySize)
	assert.Equal(t, 65536, custom.MaxRecordSize)
	assert.Equal(t, TypeFilterConfig{Include: []string{"s", "ss", "f", "fp"}, Exclude: []string{"sapi"}}, custom.Types)
	assert.Equal(t, DedupeConfig{Window: 10 * time.Minute, MaxEntries: 5000}, custom.Dedupe)
	assert.Equal(t, 30*time.Second, custom.RetryAfter)
	assert.Equal(t, []string{"zstd", "identity"}, custom.ServerConfig.CompressionAlgorithms, "a configured list replaces the default")
	assert.Equal(t, 500, custom.MaxRequestRecords)
	assert.Equal(t, int64(64), custom.AdmissionMemoryMiB)
	storage := component.MustNewID("journal_storage")
	assert.Equal(t, DrainConfig{Storage: &storage, Timeout: 45 * time.Second}, custom.Drain)

	none := loadConfig(t, "no_compression")
	require.NoError(t, confmap.Validate(none))
	assert.Empty(t, none.ServerConfig.CompressionAlgorithms)
	assert.Empty(t, newCodings(none.ServerConfig.CompressionAlgorithms).accepted, "an empty list accepts identity only")

	unauth := loadConfig(t, "unauthenticated")
	require.NoError(t, confmap.Validate(unauth))
	assert.Zero(t, unauth.Dedupe.Window)

	require.NoError(t, confmap.Validate(loadConfig(t, "extension_auth")))
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "invalid"))
	require.Error(t, err)
	for _, want := range []string{
		`"endpoint" must be set`,
		`"logs_path" must be an absolute URL path`,
		`"actions_path" must be an absolute URL path`,
		`"logs_path" and "actions_path" must differ`,
		`"types.include" has an empty type code`,
		`type "s" is in both "types.include" and "types.exclude"`,
		`"dedupe.window" must not be negative`,
		`"retry_after" must be at least 1s`,
		`"max_record_size" must be between 1 and 4194304 bytes`,
		`"compression_algorithms" has "br", which the receiver cannot decode: use some of deflate, gzip, lz4, snappy, x-snappy-framed, zlib, zstd`,
		`"max_request_records" must be at least 1, got 0`,
		`"max_request_body_size" must be at least 1024 bytes (or 0 for the default, 4194304), got 100`,
		`"drain.timeout" must not be negative (0 turns the wait off), got -1s`,
	} {
		assert.ErrorContains(t, err, want)
	}

	err = confmap.Validate(loadConfig(t, "contradiction"))
	assert.ErrorContains(t, err, "contradict")

	// 8 MiB bodies of records may take 8 x 27 MiB: more than 128 MiB.
	err = confmap.Validate(loadConfig(t, "admission_too_small"))
	assert.ErrorContains(t, err, `"admission_memory_mib" (128) must hold the largest request allowed, which may take 231 MiB`)
}

func TestDefaultConfigNeedsAuthentication(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.ErrorContains(t, cfg.Validate(), "no authentication")
	cfg.Secret = " padded "
	assert.ErrorContains(t, cfg.Validate(), "leading or trailing whitespace")
	cfg.Secret = "ok"
	assert.NoError(t, cfg.Validate())
}
