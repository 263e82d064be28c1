// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package hectest runs the real contrib splunk_hec exporter against the real
// contrib splunk_hec receiver, in-process on loopback, for integration tests.
// Between the two sits a recording proxy, so a test sees both what Splunk
// would index (the HEC JSON on the wire) and what the receiver made of it.
package hectest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hectest"

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/splunkhecreceiver"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Token is the HEC token the exporter sends and the proxy checks.
const Token = "00000000-0000-0000-0000-hectesttoken"

// HEC is a running HEC endpoint: the recording proxy in front of a real
// splunk_hec receiver whose output lands in Sink.
type HEC struct {
	// URL is what an exporter's endpoint should be set to.
	URL  string
	Sink *consumertest.LogsSink

	mu     sync.Mutex
	events []map[string]any
	// Status, when set, is answered instead of forwarding (outage tests).
	status int
}

// Start runs a HEC endpoint for the test's lifetime.
func Start(t testing.TB) *HEC {
	t.Helper()
	h := &HEC{Sink: new(consumertest.LogsSink)}

	factory := splunkhecreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*splunkhecreceiver.Config)
	cfg.ServerConfig.NetAddr.Endpoint = freeAddr(t)
	rcv, err := factory.CreateLogs(context.Background(), receivertest.NewNopSettings(factory.Type()), cfg, h.Sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	target, err := url.Parse("http://" + cfg.ServerConfig.NetAddr.Endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Splunk "+Token {
			http.Error(w, `{"text":"Invalid token","code":4}`, http.StatusForbidden)
			return
		}
		if status := h.currentStatus(); status != 0 {
			http.Error(w, `{"text":"Server is busy","code":9}`, status)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := h.record(body, r.Header.Get("Content-Encoding")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	h.URL = server.URL + "/services/collector"
	return h
}

// SetStatus makes the endpoint answer status to every request (0 restores it).
func (h *HEC) SetStatus(status int) {
	h.mu.Lock()
	h.status = status
	h.mu.Unlock()
}

func (h *HEC) currentStatus() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status
}

// Events returns the HEC events received so far, decoded from the wire.
func (h *HEC) Events() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...)
}

// record decodes a HEC request body: concatenated JSON event objects.
func (h *HEC) record(body []byte, encoding string) error {
	r := io.Reader(bytes.NewReader(body))
	if encoding == "gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	dec := json.NewDecoder(r)
	var events []map[string]any
	for {
		var ev map[string]any
		if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		events = append(events, ev)
	}
	h.mu.Lock()
	h.events = append(h.events, events...)
	h.mu.Unlock()
	return nil
}

// NewExporter creates and starts a splunk_hec exporter sending to h, with
// its sending queue off so that ConsumeLogs returns the HEC's answer.
func (h *HEC) NewExporter(t testing.TB, mutate func(*splunkhecexporter.Config)) exporter.Logs {
	t.Helper()
	factory := splunkhecexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*splunkhecexporter.Config)
	cfg.ClientConfig.Endpoint = h.URL
	cfg.Token = configopaque.String(Token)
	cfg.QueueSettings = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	if mutate != nil {
		mutate(cfg)
	}
	exp, err := factory.CreateLogs(context.Background(), exportertest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
