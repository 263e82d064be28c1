// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"
)

func TestIsItemKey(t *testing.T) {
	for _, key := range []string{"0", "1", "42", "18446744073709551615"} {
		assert.True(t, isItemKey(key), key)
	}
	// The queue's metadata, now and in older versions, and other keys.
	for _, key := range []string{"", "qmv0", "ri", "wi", "di", "poll/checkpoint", "1a", " 1", "-1", "k"} {
		assert.False(t, isItemKey(key), key)
	}
}

// TestQueuedItemsAcrossWritesAndDeletes: only item keys count, once each
// however often they are written, and only while they exist.
func TestQueuedItemsAcrossWritesAndDeletes(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir(), 1<<20)
	defer j.Close(ctx)
	meta := []byte("metadata")

	// The queue writes an item with its metadata.
	require.NoError(t, j.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation("0", []byte("a"))))
	require.NoError(t, j.Batch(ctx, storage.SetOperation("qmv0", meta), storage.SetOperation("1", []byte("b"))))
	require.NoError(t, j.Batch(ctx, storage.SetOperation("ri", meta), storage.SetOperation("wi", meta), storage.SetOperation("di", meta)))
	assert.Equal(t, 2, j.queuedItems())

	require.NoError(t, j.Set(ctx, "1", []byte("b again")), "an item written again")
	assert.Equal(t, 2, j.queuedItems())
	require.NoError(t, j.Delete(ctx, "7"), "an item that was never there")
	require.NoError(t, j.Delete(ctx, "qmv0"))
	assert.Equal(t, 2, j.queuedItems())

	// The queue deletes an item once sent, with its metadata; twice does
	// not count twice.
	require.NoError(t, j.Batch(ctx, storage.SetOperation("qmv0", meta), storage.DeleteOperation("0")))
	require.NoError(t, j.Batch(ctx, storage.DeleteOperation("0")))
	assert.Equal(t, 1, j.queuedItems())

	// Within one batch: an item added and deleted is not there; one
	// deleted and added again is.
	require.NoError(t, j.Batch(ctx, storage.SetOperation("2", nil), storage.DeleteOperation("2")))
	require.NoError(t, j.Batch(ctx, storage.DeleteOperation("1"), storage.SetOperation("1", []byte("c"))))
	assert.Equal(t, 1, j.queuedItems())

	// A batch that fails changes nothing.
	require.Error(t, j.Batch(ctx, storage.SetOperation("3", nil), &storage.Operation{Type: 99, Key: "4"}))
	assert.Equal(t, 1, j.queuedItems())
}

// TestQueuedItemsModel drives random batches of item and metadata keys
// through small segments (rotations, copies forward, segments removed),
// with crashes and clean reopens between them, and checks the count
// against a model after every step and every replay.
func TestQueuedItemsModel(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 21))
	keys := []string{"qmv0", "ri", "wi", "di", "poll/checkpoint"}
	for i := range 24 {
		keys = append(keys, strconv.Itoa(i))
	}
	model := map[string]bool{}
	wantItems := func() int {
		n := 0
		for k := range model {
			if isItemKey(k) {
				n++
			}
		}
		return n
	}
	const segmentSize = 8 << 10
	j := open(t, dir, segmentSize)
	for step := range 1500 {
		ops := make([]*storage.Operation, 1+rng.IntN(4))
		for i := range ops {
			key := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				ops[i] = storage.DeleteOperation(key)
				continue
			}
			ops[i] = storage.SetOperation(key, make([]byte, rng.IntN(600)))
		}
		require.NoError(t, j.Batch(ctx, ops...))
		for _, op := range ops {
			if op.Type == storage.Delete {
				delete(model, op.Key)
			} else {
				model[op.Key] = true
			}
		}
		require.Equal(t, wantItems(), j.queuedItems(), "step %d", step)
		switch rng.IntN(100) {
		case 0:
			crash(j)
			j = open(t, dir, segmentSize)
			require.Equal(t, wantItems(), j.queuedItems(), "after a crash at step %d", step)
		case 1:
			require.NoError(t, j.Close(ctx))
			j = open(t, dir, segmentSize)
			require.Equal(t, wantItems(), j.queuedItems(), "after a reopen at step %d", step)
		}
	}
	require.Greater(t, j.stats().segments+int(j.rotations), 1, "the steps must have rotated segments")
	require.NoError(t, j.Close(ctx))
}

// TestQueuedItemsOfExporters: the extension counts the items of the
// journals exporters have open, not another component's keys, nor a
// journal once closed.
func TestQueuedItemsOfExporters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ext := startExtension(t, dir)
	counter := ext.(interface{ QueuedItems() int })
	queue, err := ext.GetClient(ctx, component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(t, err)
	other, err := ext.GetClient(ctx, component.KindExporter, component.MustNewIDWithName("splunk_hec", "b"), "logs")
	require.NoError(t, err)
	receiver, err := ext.GetClient(ctx, component.KindReceiver, component.MustNewID("auth0login"), "poll")
	require.NoError(t, err)

	require.NoError(t, queue.Batch(ctx, storage.SetOperation("qmv0", []byte("m")), storage.SetOperation("0", []byte("a")), storage.SetOperation("1", []byte("b"))))
	require.NoError(t, other.Set(ctx, "0", []byte("c")))
	require.NoError(t, receiver.Set(ctx, "12", []byte("not a queue")))
	assert.Equal(t, 3, counter.QueuedItems())

	require.NoError(t, other.Close(ctx))
	assert.Equal(t, 2, counter.QueuedItems(), "a closed journal is no queue being drained")
	require.NoError(t, ext.Shutdown(ctx))
	assert.Zero(t, counter.QueuedItems())

	// Reopened, the journal counts what it holds on disk.
	ext = startExtension(t, dir)
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	_, err = ext.GetClient(ctx, component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(t, err)
	assert.Equal(t, 2, ext.(interface{ QueuedItems() int }).QueuedItems())
}

// TestQueuedItemsOfTheExporterQueue counts what the real splunk_hec
// exporter's persistent queue keeps: each request queued while Splunk is
// down is one item, across a restart, and none once Splunk took them.
func TestQueuedItemsOfTheExporterQueue(t *testing.T) {
	hec := hectest.Start(t)
	hec.SetStatus(http.StatusServiceUnavailable)
	factory := NewFactory()
	s, last := storagesuite.Capture(storagesuite.Storage{
		Name:    "journal_storage",
		Factory: factory,
		Config: func(dir string) component.Config {
			cfg := factory.CreateDefaultConfig().(*Config)
			cfg.Directory = dir
			return cfg
		},
	})
	queued := func() int { return last().(*journalStorage).QueuedItems() }
	dir := t.TempDir()
	exp, stop := storagesuite.StartExporter(t, hec, s, s.Config(dir))
	const requests, perRequest = 12, 10
	for i := range requests {
		require.NoError(t, exp.ConsumeLogs(context.Background(), storagesuite.Logs(i*perRequest, perRequest)))
	}
	assert.Equal(t, requests, queued(), "items being retried are still queued")
	stop()

	exp, stop = storagesuite.StartExporter(t, hec, s, s.Config(dir))
	defer stop()
	assert.Equal(t, requests, queued(), "after a restart")
	require.NoError(t, exp.ConsumeLogs(context.Background(), storagesuite.Logs(requests*perRequest, perRequest)))
	assert.Equal(t, requests+1, queued())

	hec.SetStatus(0)
	require.Eventually(t, func() bool { return queued() == 0 }, time.Minute, 10*time.Millisecond)
	storagesuite.RequireEachOnce(t, hec, (requests+1)*perRequest)
}
