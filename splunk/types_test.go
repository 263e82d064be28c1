package splunk

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// typesGoldenPath holds the HEC events of the type fixture in a body format.
func typesGoldenPath(format string) string {
	return filepath.Join("testdata", "hec-events-types-"+format+".jsonl")
}

// typeFixture is an Auth0 log stream batch with one record of every type
// code the collector knows, in the shape Auth0 gives that kind of event: a
// user, client, IP and connection; an error for failures; a client and an
// audience, but no user, for client-credentials exchanges.
func typeFixture() []byte {
	types := auth0event.KnownTypes()
	codes := slices.Sorted(maps.Keys(types))
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var out []byte
	for i, code := range codes {
		logID := fmt.Sprintf("900202611220800%035d", i+1)
		rec := map[string]any{
			"date": start.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000Z"), "type": code,
			"description": "", "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "client_name": "Storefront",
			"ip": "198.51.100.77", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
			"user_id": "auth0|6a7b8c9d0e1f2a3b4c5d6e7f", "user_name": "casey@example.com",
			"connection": "Username-Password-Authentication", "connection_id": "con_9fGkXw2Lq7TzY1aB",
			"strategy": "auth0", "strategy_type": "database", "hostname": "acme.eu.auth0.com", "tenant_name": "acme",
			"details": map[string]any{"stats": map[string]any{"loginsCount": 12}}, "log_id": logID,
		}
		switch types[code].Kind {
		case auth0event.KindFailure:
			rec["description"] = "Wrong email or password."
			rec["details"] = map[string]any{"error": map[string]any{"message": "Wrong email or password."}}
		case auth0event.KindSecurity:
			rec["description"] = types[code].Name
		}
		if code == "seccft" || code == "feccft" {
			for _, k := range []string{"user_id", "user_name", "connection", "connection_id", "strategy", "strategy_type"} {
				delete(rec, k)
			}
			rec["audience"] = "https://acme.eu.auth0.com/api/v2/"
			rec["scope"] = "read:users update:users"
		}
		line, err := json.Marshal(map[string]any{"log_id": logID, "data": rec})
		if err != nil {
			panic(err)
		}
		out = append(append(out, line...), '\n')
	}
	return out
}

// TestGoldenTypeEvents runs the pipeline on the type fixture in each body
// format and compares what the HEC endpoint wrote with
// testdata/hec-events-types-<format>.jsonl: the events the CIM mapping is
// checked against. -update rewrites them.
func TestGoldenTypeEvents(t *testing.T) {
	inputs := []struct{ path, body string }{{"/auth0/logs", string(typeFixture())}}
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
