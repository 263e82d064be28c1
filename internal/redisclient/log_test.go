// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package redisclient

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// go-redis's own message about a server it cannot reach goes to the
// logger, at debug level, marked as the library's.
func TestRouteLogs(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	RouteLogs(zap.New(core))
	t.Cleanup(func() { RouteLogs(zap.NewNop()) })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c := redis.NewClient(&redis.Options{Addr: addr, DialerRetries: 1, MaxRetries: -1})
	defer c.Close()
	require.Error(t, c.Ping(context.Background()).Err())

	require.Eventually(t, func() bool { return logs.Len() > 0 }, 10*time.Second, 10*time.Millisecond)
	entry := logs.All()[0]
	assert.Equal(t, zapcore.DebugLevel, entry.Level)
	assert.Contains(t, entry.Message, "dial")
	assert.Equal(t, "go-redis", entry.ContextMap()["library"])
}
