// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
)

func TestBackOffFollowsTheConfig(t *testing.T) {
	b := NewBackOff(configretry.BackOffConfig{InitialInterval: time.Second, Multiplier: 2, MaxInterval: 5 * time.Second})
	var got []time.Duration
	for range 5 {
		got = append(got, b.NextBackOff())
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got)
	b.Reset()
	assert.Equal(t, time.Second, b.NextBackOff(), "Reset starts again from the initial interval")
}

func TestBackOffIsSpreadByTheRandomizationFactor(t *testing.T) {
	b := NewBackOff(configretry.BackOffConfig{InitialInterval: time.Second, Multiplier: 1, MaxInterval: time.Second, RandomizationFactor: 0.5})
	spread := map[time.Duration]bool{}
	for range 100 {
		d := b.NextBackOff()
		require.GreaterOrEqual(t, d, 500*time.Millisecond)
		require.LessOrEqual(t, d, 1500*time.Millisecond+1)
		spread[d] = true
	}
	assert.Greater(t, len(spread), 1, "delays are spread, not all the same")
}

func TestSleepWaits(t *testing.T) {
	start := time.Now()
	require.NoError(t, Sleep(context.Background(), 20*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, time.Hour) }()
	cancel(errors.New("shutting down"))
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep did not return when its context was cancelled")
	}

	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled, "a cancelled context with no wait left")
	assert.NoError(t, Sleep(context.Background(), 0))
	assert.NoError(t, Sleep(context.Background(), -time.Second))
}
