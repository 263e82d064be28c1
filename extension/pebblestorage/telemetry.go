package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage/internal/metadata"
)

// clientTelemetry records one store's metrics, under its client name. A
// nil one records nothing (a store opened outside the extension).
type clientTelemetry struct {
	builder *metadata.TelemetryBuilder
	client  metric.MeasurementOption
	full    metric.MeasurementOption
	failed  metric.MeasurementOption
}

func newClientTelemetry(builder *metadata.TelemetryBuilder, client string) *clientTelemetry {
	withReason := func(reason string) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("client", client), attribute.String("reason", reason)))
	}
	return &clientTelemetry{
		builder: builder,
		client:  metric.WithAttributeSet(attribute.NewSet(attribute.String("client", client))),
		full:    withReason("full"),
		failed:  withReason("error"),
	}
}

// batchFailed counts a batch that returned err; a caller's cancelled
// context is not the store's failure.
func (t *clientTelemetry) batchFailed(err error) {
	if t == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	reason := t.failed
	if errors.Is(err, storage.ErrStorageFull) {
		reason = t.full
	}
	t.builder.PebbleStorageBatchesFailed.Add(context.Background(), 1, reason)
}

// registerGauges reports the disk usage of every open store of s.
func registerGauges(builder *metadata.TelemetryBuilder, s *pebbleStorage) error {
	return builder.RegisterPebbleStorageDiskUsageCallback(func(_ context.Context, o metric.Int64Observer) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for c := range s.clients {
			if usage, ok := c.diskUsage(); ok {
				o.Observe(usage, c.metrics.client)
			}
		}
		return nil
	})
}
