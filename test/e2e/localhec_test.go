// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// LocalHEC is cmd/localhec, the local HEC endpoint `make run` starts: a
// stand-in for Splunk in its own process, writing each HEC event that
// arrives to a file, one per line.
type LocalHEC struct {
	*binarytest.Process
	t    testing.TB
	Addr string // where it listens
	File string // where it writes the events
}

// StartHEC runs cmd/localhec and waits until it listens.
func StartHEC(t testing.TB) *LocalHEC {
	t.Helper()
	h := &LocalHEC{
		t:    t,
		Addr: fmt.Sprintf("127.0.0.1:%d", childproc.FreePort()),
		File: filepath.Join(t.TempDir(), "hec-events.jsonl"),
	}
	h.Process = binarytest.Run(t, localHECBinary(t), []string{"-listen", h.Addr, "-file", h.File}, map[string]string{"SPLUNK_HEC_TOKEN": HECToken})
	h.waitListening()
	return h
}

// URL is the HEC endpoint an exporter should send to.
func (h *LocalHEC) URL() string { return "http://" + h.Addr + "/services/collector" }

func (h *LocalHEC) waitListening() {
	h.t.Helper()
	require.NoError(h.t, h.WaitListen(h.Addr, 30*time.Second), "localhec")
}

// HECRecords reads the HEC events the local HEC endpoint has written so
// far, as records: each one's body is the event, its attributes the
// event's fields, with host, source, sourcetype and index under the names
// the contrib splunk_hec receiver gives them.
func (h *LocalHEC) HECRecords() []plog.LogRecord {
	h.t.Helper()
	return readHECFile(h.t, h.File)
}

// WaitHECRecords waits until at least n records reached the local HEC.
func (h *LocalHEC) WaitHECRecords(n int, timeout time.Duration) []plog.LogRecord {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		records := h.HECRecords()
		if len(records) >= n {
			return records
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("%d HEC records after %s, want %d\n%s", len(records), timeout, n, h.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readHECFile reads a file of HEC events, one JSON object per line.
func readHECFile(t testing.TB, path string) []plog.LogRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []plog.LogRecord
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev struct {
			Time       float64        `json:"time"`
			Host       string         `json:"host"`
			Source     string         `json:"source"`
			SourceType string         `json:"sourcetype"`
			Index      string         `json:"index"`
			Event      any            `json:"event"`
			Fields     map[string]any `json:"fields"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			continue // a line still being written
		}
		lr := plog.NewLogRecord()
		require.NoError(t, lr.Body().FromRaw(ev.Event))
		require.NoError(t, lr.Attributes().FromRaw(ev.Fields))
		for key, v := range map[string]string{
			"host.name": ev.Host, "com.splunk.source": ev.Source,
			"com.splunk.sourcetype": ev.SourceType, "com.splunk.index": ev.Index,
		} {
			if _, ok := lr.Attributes().Get(key); !ok && v != "" {
				lr.Attributes().PutStr(key, v)
			}
		}
		lr.SetTimestamp(pcommon.Timestamp(ev.Time * 1e9))
		out = append(out, lr)
	}
	return out
}

// localHECBinary is cmd/localhec: LOCALHEC_BINARY, or built once for the run.
func localHECBinary(t testing.TB) string {
	t.Helper()
	if path := os.Getenv("LOCALHEC_BINARY"); path != "" {
		return path
	}
	localHEC.once.Do(func() {
		dir, err := os.MkdirTemp("", "e2e-localhec-") //nolint:usetesting // built once for every test of the package
		if err != nil {
			localHEC.err = err
			return
		}
		localHEC.path = filepath.Join(dir, "localhec")
		cmd := exec.Command("go", "build", "-o", localHEC.path, "./cmd/localhec")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			localHEC.err = fmt.Errorf("go build ./cmd/localhec: %w\n%s", err, out)
		}
	})
	require.NoError(t, localHEC.err)
	return localHEC.path
}

var localHEC struct {
	once sync.Once
	path string
	err  error
}

// TestMain removes the localhec built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if localHEC.path != "" {
		_ = os.RemoveAll(filepath.Dir(localHEC.path))
	}
	os.Exit(code)
}
