// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadata"
)

// journalTelemetry records one journal's metrics, under its client name.
// A nil one records nothing (a journal opened outside the extension).
type journalTelemetry struct {
	builder *metadata.TelemetryBuilder
	client  metric.MeasurementOption
	full    metric.MeasurementOption
	failed  metric.MeasurementOption
}

func newJournalTelemetry(builder *metadata.TelemetryBuilder, client string) *journalTelemetry {
	withReason := func(reason string) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("client", client), attribute.String("reason", reason)))
	}
	return &journalTelemetry{
		builder: builder,
		client:  metric.WithAttributeSet(attribute.NewSet(attribute.String("client", client))),
		full:    withReason("full"),
		failed:  withReason("error"),
	}
}

func (t *journalTelemetry) fsynced(took time.Duration) {
	if t != nil {
		t.builder.JournalStorageFsyncDuration.Record(context.Background(), took.Seconds(), t.client)
	}
}

// batchFailed counts a batch that returned err; a caller's cancelled
// context is not the journal's failure.
func (t *journalTelemetry) batchFailed(err error) {
	if t == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	reason := t.failed
	if errors.Is(err, storage.ErrStorageFull) {
		reason = t.full
	}
	t.builder.JournalStorageBatchesFailed.Add(context.Background(), 1, reason)
}

// registerJournalGauges reports the size of every open journal of s.
func registerJournalGauges(builder *metadata.TelemetryBuilder, s *journalStorage) error {
	observe := func(report func(stats, metric.Int64Observer, metric.ObserveOption)) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			for j := range s.clients {
				report(j.stats(), o, j.metrics.client)
			}
			return nil
		}
	}
	return errors.Join(
		builder.RegisterJournalStorageDiskUsageCallback(observe(func(st stats, o metric.Int64Observer, client metric.ObserveOption) {
			o.Observe(st.bytes, client)
		})),
		builder.RegisterJournalStorageLiveDataCallback(observe(func(st stats, o metric.Int64Observer, client metric.ObserveOption) {
			o.Observe(st.live, client)
		})),
	)
}
