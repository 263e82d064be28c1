// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
)

// drainHEC is the HEC endpoint of the drain tests: the recorder
// (503 while down), answering each request after delay.
type drainHEC struct {
	*hecRecorder
	delay atomic.Int64 // nanoseconds
	url   string
}

func startDrainHEC(t *testing.T) *drainHEC {
	t.Helper()
	h := &drainHEC{hecRecorder: newHECRecorder()}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(h.delay.Load()))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL + "/services/collector"
	return h
}

// startDrainCollector runs otelcol-config.yaml with drainTimeout, the
// log id as an index-time field (for the recorder), on storage.
func startDrainCollector(t *testing.T, hec *drainHEC, storage, drainTimeout string) *Collector {
	t.Helper()
	fields, err := hecfields.Overlay(filepath.Join(repoRoot(t), "otelcol-config.yaml"), "auth0.log_id")
	require.NoError(t, err)
	return StartCollector(t, Options{
		HECEndpoint: hec.url, Storage: storage, Configs: []string{fields},
		Env: map[string]string{"OTELCOL_DRAIN_TIMEOUT": drainTimeout},
	})
}

// postBacklog sends batches of new records, each answered 200, and
// returns the acknowledged log ids.
func postBacklog(t *testing.T, c *Collector, prefix string, batches, perBatch int) []string {
	t.Helper()
	var ids []string
	for b := range batches {
		var body []byte
		for i := range perBatch {
			r := userlessRecord(fmt.Sprintf("%s-%04d-%04d", prefix, b, i))
			body = append(append(body, r.line...), '\n')
			ids = append(ids, r.id)
		}
		status, answer := c.Post("/auth0/logs", body)
		require.Equal(t, http.StatusOK, status, answer)
	}
	return ids
}

// queuedOnDisk opens the real journal_storage on a stopped collector's
// storage and counts the items of the splunk_hec exporter's queue.
func queuedOnDisk(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	factory := journalstorage.NewFactory()
	cfg := factory.CreateDefaultConfig().(*journalstorage.Config)
	cfg.Directory = dir
	require.DirExists(t, filepath.Join(dir, "exporter_splunk_hec__logs"))
	ext, err := factory.Create(ctx, extensiontest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()
	client, err := ext.(storage.Extension).GetClient(ctx, component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(ctx)) }()
	return ext.(interface{ QueuedItems() int }).QueuedItems()
}

// answerDuringShutdown posts a record at a time until the collector
// answers otherwise than 200 (or no longer answers), and returns that
// answer and the ids acknowledged before it.
func answerDuringShutdown(t *testing.T, c *Collector) (status int, retryAfter, body string, acked []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := userlessRecord("probe-" + strconv.FormatInt(time.Now().UnixNano(), 10))
		req, err := http.NewRequest(http.MethodPost, "http://"+c.Receiver+"/auth0/logs", bytes.NewReader(r.line))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err.Error(), acked
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, resp.Header.Get("Retry-After"), string(b), acked
		}
		acked = append(acked, r.id)
	}
	t.Fatal("the collector kept answering 200 after SIGTERM")
	return 0, "", "", nil
}

var drainStarted = regexp.MustCompile(`waiting for the persistent queue.*"items": (\d+)`)

// queuedAtDrain reads the items the collector logged when its drain began.
func queuedAtDrain(t *testing.T, output string) int {
	t.Helper()
	m := drainStarted.FindStringSubmatch(output)
	require.NotNil(t, m, "no drain started in the output")
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// TestDrainOnSIGTERM: a backlog queued while Splunk refused, Splunk back
// but slow, then SIGTERM. The collector refuses new requests with 503 and
// exits only once the queue reached Splunk: every acknowledged event
// arrived before the exit, and nothing is left on disk.
func TestDrainOnSIGTERM(t *testing.T) {
	hec := startDrainHEC(t)
	hec.down.Store(true)
	storage := t.TempDir()
	c := startDrainCollector(t, hec, storage, "45s")
	const batches, perBatch = 60, 100
	ids := postBacklog(t, c, "drain", batches, perBatch)
	assert.Empty(t, hec.snapshot(), "Splunk refused everything so far")

	hec.delay.Store(int64(300 * time.Millisecond))
	hec.down.Store(false)
	sigterm := time.Now()
	exited := make(chan int, 1)
	go func() { exited <- c.Terminate(90 * time.Second) }()
	status, retryAfter, body, acked := answerDuringShutdown(t, c)
	assert.Equal(t, http.StatusServiceUnavailable, status, body)
	assert.Equal(t, "5", retryAfter)
	assert.Contains(t, body, "the collector is shutting down")
	ids = append(ids, acked...)

	require.Equal(t, 0, <-exited)
	drainTime := time.Since(sigterm)
	output := c.Output()
	assert.Contains(t, output, "The persistent queue is drained")
	assert.Contains(t, output, "Shutdown complete.")

	// Asked once the process is gone: what is there arrived before.
	assert.Empty(t, hec.waitFor(ids, 0), "every acknowledged event reached Splunk before the exit")
	left := queuedOnDisk(t, storage)
	assert.Zero(t, left)
	items := queuedAtDrain(t, output)
	assert.Positive(t, items)
	t.Logf("figures: drain with Splunk back (%v a request): backlog %d events (%d acknowledged after SIGTERM) in %d queue items; SIGTERM to exit %.1fs; items left on disk %d",
		time.Duration(hec.delay.Load()), len(ids), len(acked), items, drainTime.Seconds(), left)
}

// TestDrainTimesOutWithSplunkDown: Splunk stays down through the drain.
// The collector exits at the timeout with the items on disk, says how
// many, and a collector started again on the same storage delivers them.
func TestDrainTimesOutWithSplunkDown(t *testing.T) {
	hec := startDrainHEC(t)
	hec.down.Store(true)
	storage := t.TempDir()
	c := startDrainCollector(t, hec, storage, "5s")
	ids := postBacklog(t, c, "down", 20, 100)

	sigterm := time.Now()
	require.Equal(t, 0, c.Terminate(60*time.Second))
	drainTime := time.Since(sigterm)
	assert.GreaterOrEqual(t, drainTime, 5*time.Second, "the drain waited its timeout")
	output := c.Output()
	assert.Contains(t, output, "The persistent queue did not drain within drain.timeout")
	assert.Regexp(t, `"items_left": [1-9]`, output)
	left := queuedOnDisk(t, storage)
	assert.Positive(t, left)
	assert.Empty(t, hec.snapshot())

	hec.down.Store(false)
	again := startDrainCollector(t, hec, storage, "45s")
	assert.Empty(t, hec.waitFor(ids, 60*time.Second), "the restart delivered what was left")
	require.Equal(t, 0, again.Terminate(90*time.Second))
	assert.Zero(t, queuedOnDisk(t, storage))
	got := hec.received()
	for _, id := range ids {
		assert.Equal(t, 1, got[id], id)
	}
	t.Logf("figures: drain with Splunk down: backlog %d events in %d queue items; SIGTERM to exit %.1fs (timeout 5s); items left on disk %d, all delivered after a restart",
		len(ids), queuedAtDrain(t, output), drainTime.Seconds(), left)
}
