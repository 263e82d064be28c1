// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

func TestUnauthenticatedModeWarns(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.Secret = ""; c.AllowUnauthenticated = true })
	r := h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamObject), "Authorization", "")
	assert.Equal(t, http.StatusOK, r.status)
	warnings := h.logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("WITHOUT authentication").All()
	assert.Len(t, warnings, 1)
}

func TestUnknownPath(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop())
	assert.Equal(t, http.StatusNotFound, h.post("/auth0/other", auth0test.Sample(auth0test.LogStreamObject)).status)
}

func TestLifecycle(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Secret = testSecret
	rcv, err := newReceiver(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Shutdown(context.Background()), "shutdown before start")

	for range 2 {
		require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
		resp, err := http.Post("http://"+rcv.addr+"/auth0/logs", "application/json", bytes.NewReader(auth0test.Sample(auth0test.LogStreamObject)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.NoError(t, rcv.Shutdown(context.Background()))
	}

	// A port already taken fails Start with a clear error.
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, rcv.Shutdown(context.Background())) }()
	taken := createDefaultConfig().(*Config)
	taken.ServerConfig.NetAddr.Endpoint = rcv.addr
	taken.Secret = testSecret
	other, err := newReceiver(metadatatest.NewSettings(componenttest.NewTelemetry()), taken, consumertest.NewNop())
	require.NoError(t, err)
	assert.ErrorContains(t, other.Start(context.Background(), componenttest.NewNopHost()), "address already in use")
}
