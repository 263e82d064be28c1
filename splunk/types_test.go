// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/typefixture"
)

// typesGoldenPath holds the HEC events of the type fixture in a body format.
func typesGoldenPath(format string) string {
	return filepath.Join("testdata", "hec-events-types-"+format+".jsonl")
}

// TestGoldenTypeEvents runs the pipeline on the type fixture
// (typefixture.Batch) in each body format and compares what the HEC
// endpoint wrote with testdata/hec-events-types-<format>.jsonl: the events
// the CIM mapping is checked against. -update rewrites them; the e2e test
// TestGoldenTypeEventsFromBinary checks that the built binary sends the
// same events.
func TestGoldenTypeEvents(t *testing.T) {
	inputs := []struct{ path, body string }{{"/auth0/logs", string(typefixture.Batch())}}
	for _, format := range bodyFormats {
		t.Run(format, func(t *testing.T) {
			got := runPipelineOn(t, format, inputs)
			path := typesGoldenPath(format)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run `go test ./splunk -update` to create it")
			assert.Equal(t, string(want), string(got), "the HEC events differ from %s: run `go test ./splunk -update` and review the diff", path)
			assert.Len(t, parseHECEvents(t, got), len(auth0event.KnownTypes()), "one HEC event per known type code")
		})
	}
}

// allGoldenEvents are the golden events of a tenant's day and of the type
// fixture, by file.
func allGoldenEvents(t *testing.T) map[string][]hecEvent {
	t.Helper()
	out := goldenEvents(t)
	for format, events := range readGolden(t, typesGoldenPath) {
		out["types-"+format] = events
	}
	return out
}
