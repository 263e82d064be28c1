// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package hectest

import (
	"context"
	"net/http"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/plog"
)

func logs(bodies ...string) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, b := range bodies {
		lrs.AppendEmpty().Body().SetStr(b)
	}
	return ld
}

// What the exporter sends is recorded as HEC JSON and reaches the receiver.
func TestExporterToReceiver(t *testing.T) {
	h := Start(t)
	exp := h.NewExporter(t, nil)
	require.NoError(t, exp.ConsumeLogs(context.Background(), logs("one", "two", "three")))

	var events []any
	for _, e := range h.Events() {
		events = append(events, e["event"])
	}
	assert.Equal(t, []any{"one", "two", "three"}, events)
	assert.Equal(t, 3, h.Sink.LogRecordCount())
}

// A status set on the endpoint is every request's answer until cleared;
// nothing is recorded meanwhile.
func TestSetStatus(t *testing.T) {
	h := Start(t)
	exp := h.NewExporter(t, nil)
	h.SetStatus(http.StatusServiceUnavailable)
	require.Error(t, exp.ConsumeLogs(context.Background(), logs("refused")))
	assert.Empty(t, h.Events())
	h.SetStatus(0)
	require.NoError(t, exp.ConsumeLogs(context.Background(), logs("accepted")))
	assert.Len(t, h.Events(), 1)
}

// Another token is refused, as Splunk would.
func TestWrongToken(t *testing.T) {
	h := Start(t)
	exp := h.NewExporter(t, func(cfg *splunkhecexporter.Config) { cfg.Token = configopaque.String("wrong") })
	require.Error(t, exp.ConsumeLogs(context.Background(), logs("x")))
	assert.Empty(t, h.Events())
	assert.Zero(t, h.Sink.LogRecordCount())
}
