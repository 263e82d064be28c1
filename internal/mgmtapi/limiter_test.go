// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindString(t *testing.T) {
	assert.Equal(t, "reads", KindRead.String())
	assert.Equal(t, "writes", KindWrite.String())
}

// Reads and writes have buckets of their own; Allow never waits, Wait
// gives up when its context ends.
func TestLocalLimiter(t *testing.T) {
	ctx := context.Background()
	l := newLocalLimiter(RateLimitConfig{ReadsPerSecond: 0.001, ReadBurst: 2, WritesPerSecond: 0.001, WriteBurst: 1})
	assert.True(t, l.Allow(ctx, KindRead))
	assert.True(t, l.Allow(ctx, KindRead))
	assert.False(t, l.Allow(ctx, KindRead), "the read burst is spent")
	require.NoError(t, l.Wait(ctx, KindWrite), "writes have their own bucket")
	assert.False(t, l.Allow(ctx, KindWrite))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.Error(t, l.Wait(cancelled, KindWrite))
}

// lower keeps, for each rate and burst, the stricter of the two.
func TestLowerKeepsTheStricter(t *testing.T) {
	l := newLocalLimiter(RateLimitConfig{ReadsPerSecond: 5, ReadBurst: 20, WritesPerSecond: 2, WriteBurst: 4})
	l.lower(RateLimitConfig{ReadsPerSecond: 10, ReadBurst: 10, WritesPerSecond: 1, WriteBurst: 8})
	assert.InDelta(t, 5, float64(l.reads.Limit()), 0)
	assert.Equal(t, 10, l.reads.Burst())
	assert.InDelta(t, 1, float64(l.writes.Limit()), 0)
	assert.Equal(t, 4, l.writes.Burst())
}
