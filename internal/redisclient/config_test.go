// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package redisclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"no endpoint is off", func(*Config) {}, nil},
		{"one server", func(c *Config) { c.Endpoint = "redis:6379" }, nil},
		{"cluster seeds", func(c *Config) { c.Endpoint = "a:6379, b:6379" }, nil},
		{"no port", func(c *Config) { c.Endpoint = "redis" }, []string{`"endpoint" must be host:port`}},
		{"db on a cluster", func(c *Config) { c.Endpoint, c.DB = "a:1,b:2", 3 }, []string{`"db" must be 0 with a Redis Cluster`}},
		{"negative db and no timeout", func(c *Config) { c.Endpoint, c.DB, c.Timeout = "a:1", -1, 0 }, []string{`"db" must not be negative`, `"timeout" must be positive`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

// An ACL user with a password reaches a real server; a wrong password is
// refused with Redis's own word for it.
func TestClientAuthenticates(t *testing.T) {
	srv := redistest.Start(t, redistest.Option{"--user", "collector", "on", ">s3cret", "~*", "+@all", "--user", "default", "off"})
	ctx := context.Background()
	c := NewDefaultConfig()
	c.Endpoint, c.Username, c.Password, c.TLS.Insecure, c.Timeout = srv.Addr(), "collector", "s3cret", true, 2*time.Second
	require.NoError(t, c.Validate())
	client, err := NewClient(ctx, c)
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, client.Ping(ctx).Err())

	c.Password = "wrong"
	bad, err := NewClient(ctx, c)
	require.NoError(t, err)
	defer bad.Close()
	assert.ErrorContains(t, bad.Ping(ctx).Err(), "WRONGPASS")
}

// A TLS setting that cannot load is a clear error before any connection.
func TestClientTLSFileMissing(t *testing.T) {
	c := NewDefaultConfig()
	c.Endpoint, c.TLS.CAFile = "redis:6379", "/nonexistent/ca.crt"
	_, err := NewClient(context.Background(), c)
	assert.ErrorContains(t, err, "redis TLS settings")
}
