// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

func TestFactoryType(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.LogsStability, f.LogsStability())
}

// The default configuration is a valid struct for the collector's decoder,
// listens on localhost only, and is refused until a secret is set (or
// allow_unauthenticated is said outright).
func TestCreateDefaultConfig(t *testing.T) {
	cfg, ok := NewFactory().CreateDefaultConfig().(*Config)
	require.True(t, ok)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	assert.Equal(t, defaultEndpoint, cfg.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, defaultLogsPath, cfg.LogsPath)
	assert.Equal(t, defaultActionsPath, cfg.ActionsPath)
	assert.False(t, cfg.Poll.Enabled)
	assert.ErrorContains(t, cfg.Validate(), "secret")

	cfg.Secret = "a-long-enough-shared-secret-for-the-test"
	assert.NoError(t, cfg.Validate())
}

func TestCreateLogsReceiverWithDefaultConfig(t *testing.T) {
	f := NewFactory()
	r, err := f.CreateLogs(t.Context(), receivertest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NotNil(t, r)
}

// Logs only: the records are Auth0 events.
func TestOtherSignalsAreNotSupported(t *testing.T) {
	f := NewFactory()
	_, err := f.CreateTraces(t.Context(), receivertest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	assert.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
	_, err = f.CreateMetrics(t.Context(), receivertest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	assert.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
}
