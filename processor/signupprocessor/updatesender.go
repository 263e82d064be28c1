// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/retry"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor/internal/metadata"
)

// updateSender marks one user at a time in Auth0, retrying as
// retry_on_failure says, and counts every attempt's result. The local
// queue and the Redis stream consumer both send through it.
type updateSender struct {
	api       *mgmtapi.Client
	values    map[string]any
	retry     configretry.BackOffConfig
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	mu              sync.Mutex
	lastAuthWarning time.Time
}

func newUpdateSender(api *mgmtapi.Client, key string, retryCfg configretry.BackOffConfig, logger *zap.Logger, telemetry *metadata.TelemetryBuilder) *updateSender {
	return &updateSender{api: api, values: map[string]any{key: true}, retry: retryCfg, logger: logger, telemetry: telemetry}
}

// send sends one update until it is done: applied, or dropped for good
// (the user is gone, Auth0 refused it, or retry_on_failure gave up). It
// returns false when ctx ended first: the update is still to be done.
//
// The update is written without reading the user first, also when it may
// have been applied already (resumed after a restart or by another
// replica, or after an attempt that got no answer): PATCH merges
// app_metadata, so writing the flag a second time changes nothing, while a
// read before every such write would cost a read from the tenant's budget
// to save at most one write, and resumed updates would wait at the read
// rate behind each other.
func (s *updateSender) send(ctx context.Context, user string) bool {
	bo := retry.NewBackOff(s.retry)
	started := time.Now()
	for {
		err := s.api.SetAppMetadata(ctx, user, s.values)
		if ctx.Err() != nil {
			return false
		}
		switch class := mgmtapi.Classify(err); class {
		case mgmtapi.ClassOK:
			s.count(updateOK)
			return true
		case mgmtapi.ClassRateLimited:
			// SetAppMetadata waits for the tenant's reset before the next try.
			s.count(updateRateLimited)
			continue
		case mgmtapi.ClassNotFound:
			s.count(updateDroppedNotFound)
			s.logger.Info("user no longer exists in Auth0, app_metadata update dropped")
			return true
		case mgmtapi.ClassPermanent:
			s.count(updateFailed)
			s.logger.Error("Auth0 refused the app_metadata update; it will not be retried", zap.Error(err))
			return true
		default:
			if class == mgmtapi.ClassUnauthorized {
				s.warnUnauthorized(err)
			}
			if !s.retry.Enabled || (s.retry.MaxElapsedTime > 0 && time.Since(started) > s.retry.MaxElapsedTime) {
				s.count(updateFailed)
				s.logger.Error("app_metadata update failed and is given up (retry_on_failure)", zap.Error(err))
				return true
			}
			s.count(updateRetried)
			if retry.Sleep(ctx, bo.NextBackOff()) != nil {
				return false
			}
		}
	}
}

// warnUnauthorized logs wrong credentials at most once a minute: every
// update fails the same way until they are fixed.
func (s *updateSender) warnUnauthorized(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.lastAuthWarning) < time.Minute {
		return
	}
	s.lastAuthWarning = time.Now()
	s.logger.Error("the Management API refuses the credentials (check client_id, client_secret, and the update:users / read:users scopes); updates are kept and retried",
		zap.Error(err))
}

func (s *updateSender) count(result string) {
	s.telemetry.ProcessorSignupUpdates.Add(context.Background(), 1, updateResultAttrs[result])
}

// waitWorkers waits for wg until drainTimeout passes or ctx ends: how long
// a stopping update queue lets its updates in progress finish.
func waitWorkers(ctx context.Context, wg *sync.WaitGroup, drainTimeout time.Duration) (done <-chan struct{}) {
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	timer := time.NewTimer(drainTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
	case <-ctx.Done():
	}
	return ch
}
