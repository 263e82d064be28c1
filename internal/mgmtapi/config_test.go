// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	cfg := NewDefaultConfig()
	require.NoError(t, cfg.Validate(), "no credentials at all is valid: the feature is off")
	assert.False(t, cfg.Enabled())

	cfg.Domain = "acme.auth0.com"
	err := cfg.Validate()
	assert.ErrorContains(t, err, "client_id, client_secret missing")

	cfg = NewDefaultConfig()
	cfg.Domain, cfg.ClientID, cfg.ClientSecret = "https://acme.auth0.com/", "id", "s"
	cfg.ClientConfig.Endpoint = "ftp://x"
	cfg.RateLimit.WritesPerSecond = 0
	cfg.RateLimit.ReadBurst = 0
	err = cfg.Validate()
	for _, want := range []string{"bare host name", "http:// or https://", "rates must be positive", "bursts must be at least 1"} {
		assert.ErrorContains(t, err, want)
	}
	cfg.ClientConfig.Endpoint = "http://127.0.0.1:1/api"
	assert.ErrorContains(t, cfg.Validate(), "scheme and host only")
}
