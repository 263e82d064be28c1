// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

func TestFactoryType(t *testing.T) {
	assert.Equal(t, metadata.Type, NewFactory().Type())
}

func TestCreateLogsProcessor(t *testing.T) {
	f := NewFactory()
	p, err := f.CreateLogs(t.Context(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData, "it tags records and drops copies")
	assert.Equal(t, metadata.LogsStability, f.LogsStability())
}

// Logs only: the records are Auth0 events.
func TestOtherSignalsAreNotSupported(t *testing.T) {
	f := NewFactory()
	_, err := f.CreateTraces(t.Context(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	assert.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
	_, err = f.CreateMetrics(t.Context(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	assert.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
}

// Without redis.endpoint the claims are this process's own; set, they are
// settled over TLS, refusing what needs a claim while Redis is away, each
// waiting a second at most.
func TestDefaultSharedStore(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.False(t, cfg.Redis.Enabled())
	assert.False(t, cfg.Redis.TLS.Insecure)
	assert.Equal(t, time.Second, cfg.Redis.Timeout)
	assert.Equal(t, WhenUnavailableRefuse, cfg.Redis.WhenUnavailable)
	assert.Equal(t, "otelcol-auth0", cfg.Redis.KeyPrefix)
	assert.Equal(t, "default", cfg.redisTenant())
	cfg.ManagementAPI.Domain = "acme.eu.auth0.com"
	assert.Equal(t, "acme.eu.auth0.com", cfg.redisTenant(), "the tenant defaults to the Management API's domain")
}
