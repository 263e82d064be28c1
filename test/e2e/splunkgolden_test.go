// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/localhec"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/typefixture"
)

// goldenRunToRun are the HEC keys the comparison with the golden events
// leaves out. None: `time` is the Auth0 record's date, not the receive
// time, and `host` is "unknown" in both (otelcol-config.yaml sets no
// host.name), so every key of every event must match.
var goldenRunToRun = []string{}

// TestGoldenTypeEventsFromBinary runs the built binary with
// otelcol-config.yaml, in each body format (body_format: rule, the
// shipped default, and an overlay setting auth0), posts the fixture with
// one record of every known type code (typefixture.Batch) and checks
// that the HEC events it sends are, event by event, those of
// splunk/testdata/hec-events-types-<format>.jsonl: the golden events the
// Splunk add-on's CIM tests read, which `go test ./splunk -update` makes
// from an in-process pipeline of the same components.
func TestGoldenTypeEventsFromBinary(t *testing.T) {
	for _, tc := range []struct{ format, overlay string }{
		{"rule", ""},
		{"auth0", "yaml:processors::signup::body_format: auth0"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			goldenFile := filepath.Join(repoRoot(t), "splunk", "testdata", "hec-events-types-"+tc.format+".jsonl")
			want := readGoldenHECEvents(t, goldenFile)
			require.Len(t, want, len(auth0event.KnownTypes()), "%s: one golden event per known type code", goldenFile)

			hec := &hecBuffer{}
			h, err := localhec.New(HECToken, hec, localhec.Options{})
			require.NoError(t, err)
			srv := httptest.NewServer(h)
			defer srv.Close()

			var configs []string
			if tc.overlay != "" {
				configs = append(configs, tc.overlay)
			}
			c := StartCollector(t, Options{HECEndpoint: srv.URL + localhec.PathCollector, Configs: configs})
			status, body := c.Post("/auth0/logs", typefixture.Batch())
			require.Equal(t, http.StatusOK, status, body)

			hec.waitEvents(t, len(want), time.Minute)
			// Anything more would arrive with the next flush of the
			// exporter's batch (flush_timeout 1s).
			time.Sleep(2 * time.Second)
			got := hec.events(t)
			require.Equal(t, 0, c.Terminate(time.Minute))

			compareGoldenHECEvents(t, goldenFile, want, got)
		})
	}
}

// compareGoldenHECEvents matches the binary's HEC events with the golden
// ones by type code (the auth0.type field: one event each), in the golden
// file's order, and fails with a diff naming the type code for every
// event that differs, is missing or is extra.
func compareGoldenHECEvents(t *testing.T, goldenFile string, want, got []map[string]any) {
	t.Helper()
	byCode := func(events []map[string]any, what string) (map[string]map[string]any, []string) {
		out := map[string]map[string]any{}
		var order []string
		for i, ev := range events {
			code := typeCode(ev)
			require.NotEmpty(t, code, "%s event %d has no auth0.type field: %v", what, i+1, ev)
			require.NotContains(t, out, code, "%s: two events of type code %s", what, code)
			out[code] = ev
			order = append(order, code)
		}
		return out, order
	}
	wantBy, wantOrder := byCode(want, "golden")
	gotBy, gotOrder := byCode(got, "binary")

	for i, code := range wantOrder {
		ev, ok := gotBy[code]
		if !assert.True(t, ok, "type code %s: the binary sent no HEC event (golden line %d of %s)", code, i+1, goldenFile) {
			continue
		}
		assert.Equal(t, canonical(t, wantBy[code]), canonical(t, ev),
			"type code %s: the binary's HEC event differs from line %d of %s (- golden, + binary); if the change is intended, run `go test ./splunk -update`, review the diff, and rebuild the binary", code, i+1, goldenFile)
	}
	for _, code := range gotOrder {
		if _, ok := wantBy[code]; !ok {
			t.Errorf("type code %s: the binary sent a HEC event that %s does not have:\n%s", code, goldenFile, canonical(t, gotBy[code]))
		}
	}
	assert.Len(t, got, len(want), "HEC events: golden (%s), binary", goldenFile)
}

func typeCode(ev map[string]any) string {
	fields, _ := ev["fields"].(map[string]any)
	code, _ := fields["auth0.type"].(string)
	return code
}

// canonical is a HEC event as indented JSON with sorted keys, without the
// keys that differ run to run, so that a difference shows as a line diff.
func canonical(t *testing.T, ev map[string]any) string {
	t.Helper()
	c := make(map[string]any, len(ev))
	for k, v := range ev {
		c[k] = v
	}
	for _, k := range goldenRunToRun {
		delete(c, k)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	return string(b)
}

// readGoldenHECEvents reads a file of HEC events, one JSON object a line.
func readGoldenHECEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	events, err := decodeHECLines(data)
	require.NoError(t, err, path)
	require.NotEmpty(t, events, path)
	return events
}

// decodeHECLines decodes HEC events, one a line, keeping numbers as they
// were written.
func decodeHECLines(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			return nil, fmt.Errorf("line %d: %w: %s", n, err, sc.Text())
		}
		out = append(out, ev)
	}
	return out, sc.Err()
}

// hecBuffer is where the in-process local HEC endpoint (the
// internal/localhec handler cmd/localhec serves) writes the events it
// accepted, one a line, a request at a time.
type hecBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *hecBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *hecBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	data := bytes.Clone(b.buf.Bytes())
	b.mu.Unlock()
	events, err := decodeHECLines(data)
	require.NoError(t, err)
	return events
}

// waitEvents waits until at least n events arrived, or timeout passed.
func (b *hecBuffer) waitEvents(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if len(b.events(t)) >= n || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
