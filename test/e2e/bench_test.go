// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// TestBenchPipelinesSendTheSameEvents runs the same generated load through
// the three pipelines `make bench` compares (otelcol-config.yaml as the
// bench runs it, bench/webhookevent-transform.yaml, bench/hec-passthrough.yaml)
// and checks that Splunk would receive the same HEC events from each, event
// for event (but for their dates, the generator's clock): the ratios of the
// bench compare the same output. The mix
// leaves out signups of returning users, which only ours, with its store,
// can tell from first signups.
func TestBenchPipelinesSendTheSameEvents(t *testing.T) {
	pipelines := []struct {
		name, config, path string
		format             loadtest.Format
	}{
		{"ours", "otelcol-config.yaml", "/auth0/logs", loadtest.FormatAuth0},
		{"webhookevent+transform", "bench/webhookevent-transform.yaml", "/auth0/logs", loadtest.FormatAuth0},
		{"hec-passthrough", "bench/hec-passthrough.yaml", "/services/collector", loadtest.FormatHEC},
	}
	received := map[string]map[string]map[string]any{} // pipeline -> event id -> HEC event
	for _, p := range pipelines {
		sink := loadtest.NewSink()
		sink.DecodeEvents, sink.KeepEvents = true, true
		hec := httptest.NewServer(sink)
		t.Cleanup(hec.Close)
		configs := []string{fmt.Sprintf("yaml:extensions::pprof::endpoint: 127.0.0.1:%d", childproc.FreePort())}
		if p.config == "otelcol-config.yaml" {
			overlay, err := hecfields.Overlay(filepath.Join(repoRoot(t), p.config), loadtest.IDField)
			require.NoError(t, err)
			configs = append(configs, overlay)
		}
		c := StartCollector(t, Options{Config: p.config, HECEndpoint: hec.URL + "/services/collector", Configs: configs})

		gen := loadtest.NewGenerator("same")
		gen.Mix = loadtest.Mix{"s": 0.6, "fp": 0.2, "sertft": 0.1, "ssa": 0.1}
		gen.NewUserShare = 0.3
		r := rand.New(rand.NewPCG(17, 17))
		sender := loadtest.NewSender("http://"+c.Receiver+p.path, "Bearer "+Secret)
		if p.format == loadtest.FormatHEC {
			sender.Authorization = "Splunk " + Secret
		}
		sender.Acked = loadtest.NewIDSet()
		for range 3 {
			res := sender.Send(context.Background(), gen.Next(r, 100, p.format, true))
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", p.name, res.Body)
		}
		require.Eventually(t, func() bool { lost, _, _ := sink.Check(sender.Acked); return len(lost) == 0 }, 30*time.Second, 100*time.Millisecond, p.name)

		byID := map[string]map[string]any{}
		for _, ev := range sink.Kept() {
			// The generator dates each batch when it makes it.
			delete(ev, "time")
			if body, ok := ev["event"].(map[string]any); ok {
				if data, ok := body["data"].(map[string]any); ok {
					delete(data, "date")
				}
			}
			fields, _ := ev["fields"].(map[string]any)
			id, _ := fields[loadtest.IDField].(string)
			require.NotEmpty(t, id, "%s: an event without its id: %v", p.name, ev)
			byID[id] = ev
		}
		require.Len(t, byID, 300, p.name)
		received[p.name] = byID
	}
	ours := received["ours"]
	signups := 0
	for id, want := range ours {
		if want["fields"].(map[string]any)["auth0.event"] == "SignUp" {
			signups++
		}
		for _, other := range pipelines[1:] {
			assert.Equal(t, want, received[other.name][id], "%s sends what ours sends for %s", other.name, id)
		}
	}
	assert.Positive(t, signups, "the load has SignUps")
}
