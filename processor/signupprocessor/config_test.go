// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

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

	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestDefaultConfig(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "auth0.event", cfg.Attribute)
	assert.Equal(t, "signedUp", cfg.SignedUpKey)
	assert.Equal(t, OtherRecordsPass, cfg.OtherRecords)
	assert.Equal(t, BodyFormatRule, cfg.BodyFormat)
	assert.Equal(t, SplunkConfig{Source: "auth0", SourceType: "auth0_activity"}, cfg.Splunk)
	assert.False(t, cfg.ManagementAPI.Enabled())
	assert.True(t, cfg.Lookups.Enabled)
	assert.Equal(t, 10*time.Second, cfg.Lookups.CheckSignUpsOlderThan)
	assert.Equal(t, time.Minute, cfg.Lookups.RecheckByCountAfter)
	assert.Equal(t, 3.0, cfg.ManagementAPI.RateLimit.WritesPerSecond, "inside Essentials' 200 writes/min")
	assert.Zero(t, cfg.Updates.RetryOnFailure.MaxElapsedTime, "updates are kept until they succeed")
}

func TestFullConfig(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "auth0.activity", cfg.Attribute)
	assert.Equal(t, "otelSignedUp", cfg.SignedUpKey)
	assert.Equal(t, OtherRecordsDrop, cfg.OtherRecords)
	assert.Equal(t, BodyFormatAuth0, cfg.BodyFormat)
	assert.Equal(t, SplunkConfig{Source: "auth0-tenant", SourceType: "auth0:activity", Index: "identity"}, cfg.Splunk)
	assert.Equal(t, component.MustNewID("file_storage"), *cfg.Storage)
	assert.Equal(t, 5000, cfg.CacheSize)
	assert.Equal(t, []string{"redis-0.redis:6379", "redis-1.redis:6379"}, cfg.Redis.Addrs())
	assert.Equal(t, "collector", cfg.Redis.Username)
	assert.Equal(t, configopaque.String("redis-secret"), cfg.Redis.Password)
	assert.False(t, cfg.Redis.TLS.Insecure, "tls settings turn TLS on")
	assert.Equal(t, "/etc/redis-tls/ca.crt", cfg.Redis.TLS.CAFile)
	assert.Equal(t, 2*time.Second, cfg.Redis.Timeout)
	assert.Equal(t, "acme", cfg.redisTenant())
	assert.Equal(t, WhenUnavailableDecideLocally, cfg.Redis.WhenUnavailable)
	assert.Equal(t, 3*time.Hour, cfg.Redis.LoginTTL)
	assert.Equal(t, "acme.eu.auth0.com", cfg.ManagementAPI.Domain)
	assert.Equal(t, configopaque.String("shh"), cfg.ManagementAPI.ClientSecret)
	assert.Equal(t, "http://127.0.0.1:9999", cfg.ManagementAPI.ClientConfig.Endpoint)
	assert.Equal(t, 3*time.Second, cfg.ManagementAPI.ClientConfig.Timeout)
	assert.Equal(t, 1.5, cfg.ManagementAPI.RateLimit.WritesPerSecond)
	assert.Equal(t, 4, cfg.ManagementAPI.RateLimit.ReadBurst)
	assert.False(t, cfg.Lookups.Enabled)
	assert.Equal(t, time.Minute, cfg.Lookups.CheckSignUpsOlderThan)
	assert.Equal(t, 5*time.Minute, cfg.Lookups.RecheckByCountAfter)
	assert.Equal(t, 500, cfg.Updates.QueueSize)
	assert.Equal(t, 30*time.Second, cfg.Updates.DrainTimeout)
	assert.Equal(t, 2*time.Minute, cfg.Updates.RetryOnFailure.MaxInterval)
}

func TestInvalidConfigReportsEveryProblem(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "invalid"))
	require.Error(t, err)
	for _, want := range []string{
		`"attribute" must name`,
		`"signed_up_key" must name`,
		`"other_records" must be "pass" or "drop", got "keep"`,
		`"body_format" must be "rule" or "auth0", got "xml"`,
		`"cache_size" must be positive`,
		`client_id, client_secret missing`,
		`rates must be positive`,
		`"lookups.timeout" must be positive`,
		`"lookups.concurrency" must be at least 1`,
		`"lookups.check_signups_older_than" must not be negative`,
		`"lookups.recheck_by_count_after" must not be negative`,
		`"updates.queue_size" must be positive`,
		`"updates.workers" must be at least 1`,
		`"redis": "endpoint" must be host:port`,
		`"db" must not be negative`,
		`"timeout" must be positive`,
		`must not contain braces`,
		`"when_unavailable" must be "refuse" or "decide_locally", got "wait"`,
		`"login_ttl" must be at least 1s (and longer than the receiver's dedupe.window), got 0s`,
	} {
		assert.ErrorContains(t, err, want)
	}
}

// A redis section whose endpoint came out empty (REDIS_ENDPOINT unset) is
// an error, not a silent fall back to this replica's own store.
func TestRedisSectionWithoutEndpoint(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "redis_unset"))
	assert.ErrorContains(t, err, `"redis.endpoint" is empty`)
	require.NoError(t, confmap.Validate(loadConfig(t, "")), "no redis section: the local store")
}

func TestMissingStorageExtension(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	id := component.MustNewID("file_storage")
	cfg.Storage = &id
	p, err := newProcessor(metadataSettings(t), cfg, e.next)
	require.NoError(t, err)
	err = p.Start(t.Context(), hostWith{})
	assert.ErrorContains(t, err, `storage extension "file_storage" is not configured`)
}
