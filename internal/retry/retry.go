// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package retry is how the components wait between attempts: delays from
// an exponential backoff (github.com/cenkalti/backoff), configured like the
// collector's retry_on_failure settings, and a sleep that ends when its
// context does.
package retry // import "github.com/otelcol-auth0/otelcol-auth0/internal/retry"

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/collector/config/configretry"
)

// NewBackOff returns the delays cfg describes: InitialInterval, then each
// one Multiplier times the last, up to MaxInterval, each spread by
// RandomizationFactor. It never stops by itself: cfg's Enabled and
// MaxElapsedTime are the caller's to apply.
func NewBackOff(cfg configretry.BackOffConfig) *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     cfg.InitialInterval,
		RandomizationFactor: cfg.RandomizationFactor,
		Multiplier:          cfg.Multiplier,
		MaxInterval:         cfg.MaxInterval,
	}
	b.Reset()
	return b
}

// Sleep waits for d, or until ctx is done, whichever comes first. It
// returns ctx's error when ctx ended the wait (a d of zero or less returns
// at once, with ctx's error if it is already done).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
