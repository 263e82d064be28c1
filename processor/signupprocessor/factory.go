// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/redisclient"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// NewFactory creates the signup processor factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogsProcessor, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	retry := configretry.NewDefaultBackOffConfig()
	retry.InitialInterval = time.Second
	retry.MaxInterval = time.Minute
	// An update is kept until it succeeds: with storage it even outlives restarts.
	retry.MaxElapsedTime = 0
	// A record that needs a claim waits for Redis as long as for a lookup.
	redisConfig := redisclient.NewDefaultConfig()
	redisConfig.Timeout = time.Second
	return &Config{
		Attribute:    auth0event.AttrEvent,
		SignedUpKey:  "signedUp",
		OtherRecords: OtherRecordsPass,
		BodyFormat:   BodyFormatRule,
		Splunk: SplunkConfig{
			Source:     "auth0",
			SourceType: "auth0_activity",
		},
		CacheSize: 100_000,
		Redis: RedisConfig{
			Config:          redisConfig,
			KeyPrefix:       "otelcol-auth0",
			WhenUnavailable: WhenUnavailableRefuse,
			// Twice the receiver's default dedupe window.
			LoginTTL: 2 * time.Hour,
		},
		ManagementAPI: mgmtapi.NewDefaultConfig(),
		Lookups: LookupConfig{
			Enabled:     true,
			Timeout:     time.Second,
			Concurrency: 8,
			Cooldown:    30 * time.Second,
			// Auth0 delivers a log stream's records within seconds; a
			// record older than this waited somewhere.
			CheckSignUpsOlderThan: 10 * time.Second,
			RecheckByCountAfter:   time.Minute,
		},
		Updates: UpdateConfig{
			QueueSize:      10_000,
			Workers:        2,
			DrainTimeout:   10 * time.Second,
			Lease:          30 * time.Second,
			RetryOnFailure: retry,
		},
	}
}

func createLogsProcessor(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return newProcessor(set, cfg.(*Config), next)
}
