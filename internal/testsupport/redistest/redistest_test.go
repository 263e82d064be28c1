// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A write the server acknowledged survives a SIGKILL: the append-only
// file is fsynced on every write. Options reach redis-server.
func TestKillAndRestartKeepsAcknowledgedWrites(t *testing.T) {
	s := Start(t, Option{"--requirepass", "pw"})
	ctx := context.Background()
	c := s.Client(func(o *redis.Options) { o.Password = "pw" })
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	assert.Error(t, s.Client().Ping(ctx).Err(), "the password option is in force")
	assert.True(t, s.Running())
	assert.DirExists(t, s.Dir())

	s.Kill()
	assert.False(t, s.Running())
	assert.Error(t, c.Ping(ctx).Err())
	s.Kill() // twice is harmless

	s.Restart()
	assert.True(t, s.Running())
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)
	assert.Contains(t, s.Log(), "Ready to accept connections")
}
