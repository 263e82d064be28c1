// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

const (
	defaultEndpoint    = "localhost:8080"
	defaultLogsPath    = "/auth0/logs"
	defaultActionsPath = "/auth0/actions"
	// Auth0 documents neither its batch size nor its retry schedule; an hour
	// covers a stream's retries of one batch, and at ~50 bytes an entry the
	// cap holds the window's memory near 10 MiB.
	defaultDedupeWindow     = time.Hour
	defaultDedupeMaxEntries = 200_000
	defaultRetryAfter       = 5 * time.Second
	// Auth0 documents neither the size of a log stream batch nor its
	// records' count; its log API pages hold at most 100 records of about
	// 1 KB. These bounds leave a margin of 40 and 100 times that. The
	// admission memory holds the largest request they allow (about 123 MiB
	// as admission.go counts it), or about 30 ordinary batches (about 4 MiB
	// each) at once: the receiver's share stays well under the shipped
	// memory_limiter's 400 MiB, garbage collection's slack included.
	defaultMaxRequestBodySize = 4 << 20
	defaultMaxRequestRecords  = 10_000
	defaultAdmissionMemoryMiB = 128
	// Decoding is CPU work: a few requests per core keep the cores busy
	// while others wait on the persistent queue's disk writes.
	defaultMaxConcurrentRequests = 8
	defaultAdmissionTimeout      = time.Second
	// Auth0's retired "Logs to Splunk" extension polled every 5 minutes; a
	// shorter interval keeps Splunk closer to real time at one request per
	// interval when nothing happens.
	defaultPollInterval = 30 * time.Second
	// The wait for the persistent queue at shutdown fits within
	// Kubernetes' default terminationGracePeriodSeconds (30s) with time
	// left for the rest of the shutdown; a pod given longer can wait
	// longer (otelcol-config.yaml waits 45s).
	defaultDrainTimeout = 25 * time.Second
	// Slow senders are cut off: a log stream batch is small, and an Action
	// must finish within Auth0's 20 s flow limit anyway.
	defaultReadTimeout = 30 * time.Second
)

// NewFactory creates the auth0login receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogsReceiver, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.ReadTimeout = defaultReadTimeout
	server.ReadHeaderTimeout = 10 * time.Second
	server.MaxRequestBodySize = defaultMaxRequestBodySize
	server.CompressionAlgorithms = slices.Clone(defaultCodings)
	return &Config{
		ServerConfig:  server,
		LogsPath:      defaultLogsPath,
		ActionsPath:   defaultActionsPath,
		MaxRecordSize: auth0event.DefaultLimits.MaxRecordBytes,
		Dedupe: DedupeConfig{
			Window:     defaultDedupeWindow,
			MaxEntries: defaultDedupeMaxEntries,
		},
		RetryAfter:            defaultRetryAfter,
		MaxRequestRecords:     defaultMaxRequestRecords,
		AdmissionMemoryMiB:    defaultAdmissionMemoryMiB,
		MaxConcurrentRequests: defaultMaxConcurrentRequests,
		AdmissionTimeout:      defaultAdmissionTimeout,
		Drain:                 DrainConfig{Timeout: defaultDrainTimeout},
		Poll: PollConfig{
			ManagementAPI: mgmtapi.NewDefaultConfig(),
			Interval:      defaultPollInterval,
			PageSize:      100,
			Start:         "now",
		},
	}
}

func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
