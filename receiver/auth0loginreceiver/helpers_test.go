// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

const testSecret = "tok_7Hq2-Lx9_secret"

type harness struct {
	t    *testing.T
	rcv  *auth0Receiver
	base string
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

type option func(*Config)

// startReceiver runs a receiver on a loopback port with the given consumer.
func startReceiver(t *testing.T, next consumer.Logs, opts ...option) *harness {
	return startReceiverWithHost(t, next, componenttest.NewNopHost(), opts...)
}

func startReceiverWithHost(t *testing.T, next consumer.Logs, host component.Host, opts ...option) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Secret = testSecret
	for _, o := range opts {
		o(cfg)
	}
	require.NoError(t, cfg.Validate())

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	core, logs := observer.New(zap.DebugLevel)
	set.Logger = zap.New(core)

	rcv, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return &harness{t: t, rcv: rcv, base: "http://" + rcv.addr, tel: tel, logs: logs}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (h *harness) post(path string, body []byte, headers ...string) reply {
	h.t.Helper()
	return h.do(http.MethodPost, path, body, headers...)
}

func (h *harness) do(method, path string, body []byte, headers ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Authorization", testSecret)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if resp.Header.Get("Content-Type") == "application/json" {
		require.NoError(h.t, json.Unmarshal(raw, &r.body), string(raw))
	}
	return r
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func allRecords(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, logs := range sink.AllLogs() {
		for i := range logs.ResourceLogs().Len() {
			for j := range logs.ResourceLogs().At(i).ScopeLogs().Len() {
				records := logs.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
				for k := range records.Len() {
					out = append(out, records.At(k))
				}
			}
		}
	}
	return out
}

func logIDs(sink *consumertest.LogsSink) []string {
	var ids []string
	for _, lr := range allRecords(sink) {
		ids = append(ids, auth0event.NewView(lr.Attributes(), lr.Body()).ID())
	}
	return ids
}

//nolint:unparam // the answer's four counts, each named where it is expected
func summaryOf(accepted, duplicates, filtered, rejected int) map[string]any {
	return map[string]any{"accepted": float64(accepted), "duplicates": float64(duplicates), "filtered": float64(filtered), "rejected": float64(rejected)}
}

type hostWithExtensions map[component.ID]component.Component

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h }

// encode compresses plain with a coding, the way a sender would.
func encode(t testing.TB, coding string, plain []byte) []byte {
	t.Helper()
	b, err := hostile.Encode(coding, plain)
	require.NoError(t, err)
	return b
}

// withAllCodings accepts every coding the receiver knows.
func withAllCodings(c *Config) { c.ServerConfig.CompressionAlgorithms = supportedCodings() }

func assertAdmissionFree(t *testing.T, h *harness) {
	t.Helper()
	a := h.rcv.admission
	require.Eventually(t, func() bool {
		if !a.memory.TryAcquire(a.capacity) {
			return false
		}
		a.memory.Release(a.capacity)
		return len(a.slots) == 0
	}, 5*time.Second, 10*time.Millisecond, "every request gave its admission back")
}
