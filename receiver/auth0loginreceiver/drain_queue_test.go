// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"
)

// journalQueue is the real journal_storage for the real splunk_hec
// exporter's persistent queue, and the extension last made, which the
// receiver's drain asks.
func journalQueue() (storagesuite.Storage, func() component.Component) {
	factory := journalstorage.NewFactory()
	s, last := storagesuite.Capture(storagesuite.Storage{
		Name:    "journal_storage",
		Factory: factory,
		Config: func(dir string) component.Config {
			cfg := factory.CreateDefaultConfig().(*journalstorage.Config)
			cfg.Directory = dir
			return cfg
		},
	})
	return s, func() component.Component { return last() }
}

// postBacklog sends batches of new log events and returns their ids.
func postBacklog(t *testing.T, h *harness, batches, perBatch int) []string {
	t.Helper()
	var ids []string
	for range batches {
		events := make([]auth0test.Event, perBatch)
		for i := range events {
			events[i].LogID = fmt.Sprintf("90020261120%039d", len(ids))
			ids = append(ids, events[i].LogID)
		}
		r := h.post("/auth0/logs", auth0test.Lines(events...))
		require.Equal(t, http.StatusOK, r.status, r.body)
	}
	return ids
}

// hecLogIDs are the log ids of the events the HEC endpoint received, with
// how often each arrived.
func hecLogIDs(hec *hectest.HEC) map[string]int {
	out := map[string]int{}
	for _, ev := range hec.Events() {
		if fields, ok := ev["fields"].(map[string]any); ok {
			out[fmt.Sprint(fields["auth0.log_id"])]++
		}
	}
	return out
}

// TestDrainDeliversTheBacklog: the receiver, the real splunk_hec exporter
// and its persistent queue on the real journal_storage. A backlog built
// while Splunk refuses is what shutdown waits for; once Splunk is back,
// Shutdown returns only after every acknowledged event arrived.
func TestDrainDeliversTheBacklog(t *testing.T) {
	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	s, ext := journalQueue()
	exp, stop := storagesuite.StartExporter(t, hec, s, s.Config(t.TempDir()))
	defer stop()
	h := startReceiverWithHost(t, exp, hostWithExtensions{queueID: ext()}, withDrain(time.Minute))
	ids := postBacklog(t, h, 8, 25)
	queued := ext().(queueCounter).QueuedItems()
	require.Positive(t, queued)

	done := make(chan error, 1)
	go func() { done <- h.rcv.Shutdown(context.Background()) }()
	requireNotDone(t, done, 300*time.Millisecond)
	hec.SetStatus(0)
	requireDone(t, done, 30*time.Second)

	assert.Zero(t, ext().(queueCounter).QueuedItems())
	got := hecLogIDs(hec)
	for _, id := range ids {
		assert.Equal(t, 1, got[id], "event %s", id)
	}
	assert.Equal(t, int64(queued), h.logs.FilterMessageSnippet("waiting for the persistent queue").All()[0].ContextMap()["items"])
}

// TestDrainLeavesTheBacklogOnDisk: with Splunk down through the drain,
// Shutdown returns at the timeout, the items stay in the journal, and an
// exporter started again on it delivers them.
func TestDrainLeavesTheBacklogOnDisk(t *testing.T) {
	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	s, ext := journalQueue()
	dir := t.TempDir()
	exp, stop := storagesuite.StartExporter(t, hec, s, s.Config(dir))
	h := startReceiverWithHost(t, exp, hostWithExtensions{queueID: ext()}, withDrain(500*time.Millisecond))
	ids := postBacklog(t, h, 4, 25)
	queued := ext().(queueCounter).QueuedItems()

	start := time.Now()
	require.NoError(t, h.rcv.Shutdown(context.Background()))
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
	warned := h.logs.FilterMessageSnippet("did not drain within drain.timeout").All()
	require.Len(t, warned, 1)
	assert.Equal(t, int64(queued), warned[0].ContextMap()["items_left"])
	stop()
	assert.Empty(t, hec.Events())

	hec.SetStatus(0)
	_, stop = storagesuite.StartExporter(t, hec, s, s.Config(dir))
	defer stop()
	require.Eventually(t, func() bool { return len(hecLogIDs(hec)) == len(ids) }, 30*time.Second, 20*time.Millisecond)
	// The queue deletes an item once Splunk answered for it.
	require.Eventually(t, func() bool { return ext().(queueCounter).QueuedItems() == 0 }, 10*time.Second, 10*time.Millisecond)
}
