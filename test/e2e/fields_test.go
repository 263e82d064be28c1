// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
)

// leanFields are otelcol-config.yaml's index-time fields.
var leanFields = []string{"auth0.event", "auth0.type", "auth0.category", "auth0.source", "auth0.tenant", "auth0.client_name"}

// TestIndexedFieldsAndAnotherExporter runs the binary with
// otelcol-config.yaml and a second exporter (contrib's file exporter) added
// to the main pipeline, as a team sending the records elsewhere too would.
// Splunk gets the lean index-time fields; the other exporter, in the same
// service, gets every attribute the receiver and the signup processor set,
// and the severity: the choice of fields is the Splunk pipeline's alone.
func TestIndexedFieldsAndAnotherExporter(t *testing.T) {
	hec := StartHEC(t)
	recordsFile := filepath.Join(t.TempDir(), "records.jsonl")
	c := StartCollector(t, Options{HECEndpoint: hec.URL(), Configs: []string{
		"yaml:exporters::file/all: {path: " + recordsFile + ", flush_interval: 100ms}",
		"yaml:service::pipelines::logs::exporters: [forward/splunk, file/all]",
	}})
	status, body := c.Post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	require.Equal(t, http.StatusOK, status, body)

	events := waitHECEvents(t, hec, 5)
	var others []plog.LogRecord
	require.Eventually(t, func() bool { others = readRecordsFile(t, recordsFile); return len(others) == 5 }, 30*time.Second, 100*time.Millisecond)

	byType := map[string]plog.LogRecord{}
	for _, lr := range others {
		byType[attr(lr, "auth0.type")] = lr
	}
	require.Len(t, byType, 5, "the sample has one record of each type")
	for _, ev := range events {
		keys := slices.Sorted(maps.Keys(ev.Fields))
		assert.Subset(t, leanFields, keys, "index-time fields of %v", ev.Event)
		if ev.Fields["auth0.event"] != nil {
			assert.ElementsMatch(t, leanFields, keys, "a SignUp's or Login's index-time fields")
		}
		lr, ok := byType[ev.Fields["auth0.type"].(string)]
		require.True(t, ok, "the other exporter has the record of %v", ev.Fields)
		for _, k := range keys {
			assert.Equal(t, ev.Fields[k], attr(lr, k), "field %s is the record's attribute", k)
		}
		// Everything else is still on the record the other exporter got.
		assert.NotEmpty(t, attr(lr, "auth0.log_id"), "the other exporter's record has its id")
		assert.Greater(t, lr.Attributes().Len(), len(keys), "the other exporter's record has more attributes than Splunk has fields")
		if ev.Fields["auth0.category"] != nil {
			assert.NotEqual(t, plog.SeverityNumberUnspecified, lr.SeverityNumber(), "the other exporter's record keeps its severity")
		}
	}
	for _, code := range []string{"ss", "s", "fp"} {
		lr := byType[code]
		for _, k := range []string{"user.id", "user.name", "client.address", "user_agent.original", "auth0.client_id", "auth0.hostname", "auth0.connection"} {
			assert.NotEmpty(t, attr(lr, k), "the other exporter's record of type %s has %s", code, k)
		}
	}
	assert.Equal(t, "SignUp", attr(byType["ss"], "auth0.event"))
	assert.Equal(t, "signup_type", attr(byType["ss"], "auth0.event_basis"))
	require.Equal(t, 0, c.Terminate(time.Minute))
}

// TestIndexedFieldsOptIn opts in to more index-time fields by name, as
// docs/splunk.md tells a user to (the keep_keys list restated in an overlay).
func TestIndexedFieldsOptIn(t *testing.T) {
	hec := StartHEC(t)
	overlay, err := hecfields.Overlay(filepath.Join(repoRoot(t), "otelcol-config.yaml"), "user.id", "auth0.connection")
	require.NoError(t, err)
	c := StartCollector(t, Options{HECEndpoint: hec.URL(), Configs: []string{overlay}})
	status, body := c.Post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines))
	require.Equal(t, http.StatusOK, status, body)
	optIn := []string{"user.id", "auth0.connection"}
	gained := map[string]int{}
	for _, ev := range waitHECEvents(t, hec, 5) {
		assert.Subset(t, append(slices.Clone(leanFields), optIn...), slices.Collect(maps.Keys(ev.Fields)), "index-time fields of %v", ev.Event)
		body, _ := ev.Event.(map[string]any)
		data, _ := body["data"].(map[string]any)
		if data != nil { // the Auth0 record: the fields repeat it
			assert.Equal(t, data["user_id"], ev.Fields["user.id"], "user.id is a field wherever the record has one")
			assert.Equal(t, data["connection"], ev.Fields["auth0.connection"], "auth0.connection is a field wherever the record has one")
		} else { // the Rule's object: the connection was only on the record
			assert.Equal(t, body["userId"], ev.Fields["user.id"])
			assert.Equal(t, "Username-Password-Authentication", ev.Fields["auth0.connection"])
		}
		for _, k := range optIn {
			if ev.Fields[k] != nil {
				gained[k]++
			}
		}
	}
	assert.Equal(t, map[string]int{"user.id": 4, "auth0.connection": 3}, gained)
	require.Equal(t, 0, c.Terminate(time.Minute))
}

type hecEvent struct {
	Event  any            `json:"event"`
	Fields map[string]any `json:"fields"`
}

// waitHECEvents waits for n HEC events in the local HEC endpoint's file and
// returns them as Splunk received them.
func waitHECEvents(t *testing.T, hec *LocalHEC, n int) []hecEvent {
	t.Helper()
	hec.WaitHECRecords(n, 30*time.Second)
	data, err := os.ReadFile(hec.File)
	require.NoError(t, err)
	var events []hecEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var ev hecEvent
		require.NoError(t, dec.Decode(&ev))
		events = append(events, ev)
	}
	require.Len(t, events, n)
	return events
}

// readRecordsFile reads the file exporter's OTLP JSON, one request a line.
func readRecordsFile(t *testing.T, path string) []plog.LogRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []plog.LogRecord
	var u plog.JSONUnmarshaler
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		logs, err := u.UnmarshalLogs(line)
		if err != nil {
			return nil // a line still being written
		}
		for _, rl := range logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr)
				}
			}
		}
	}
	return out
}
