// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"
)

// highCardinality are attributes with a value per event, user, client IP or
// browser: as index-time fields each one grows the index (Splunk's
// guidance is to extract them at search time), so none is one by default.
var highCardinality = []string{
	auth0event.AttrLogID, auth0event.AttrEventID, auth0event.AttrUserID, auth0event.AttrUserName,
	auth0event.AttrUserEmail, auth0event.AttrClientAddress, auth0event.AttrUserAgent,
	auth0event.AttrLoginsCount, auth0event.AttrClientID, auth0event.AttrConnectionID,
	auth0event.AttrOrganizationID, auth0event.AttrEventBasis,
	"otel.log.severity.number", "otel.log.severity.text",
}

func parseHECEvents(t *testing.T, out []byte) []hecEvent {
	t.Helper()
	var events []hecEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev hecEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
		events = append(events, ev)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, events)
	return events
}

// TestIndexedFieldsByDefault runs the pipeline with otelcol-config.yaml's
// choice of index-time fields: every HEC event's fields are among the lean
// set the Splunk app relies on, a SignUp or Login has the six of every
// event (the four risk fields come with an Adaptive MFA assessment), and
// no high-cardinality attribute (nor the exporter's severity) is a field.
func TestIndexedFieldsByDefault(t *testing.T) {
	for _, format := range bodyFormats {
		t.Run(format, func(t *testing.T) {
			events := parseHECEvents(t, runPipeline(t, format))
			union := map[string]bool{}
			for _, ev := range events {
				keys := slices.Sorted(maps.Keys(ev.Fields))
				for _, k := range keys {
					union[k] = true
					assert.Contains(t, leanIndexedFields, k, "%s is an index-time field by default: %v", k, ev.Event)
				}
				for _, k := range highCardinality {
					assert.NotContains(t, keys, k, "high-cardinality attribute %s is an index-time field by default", k)
				}
				if activity := ev.Fields[auth0event.AttrEvent]; activity == auth0event.EventSignUp || activity == auth0event.EventLogin {
					assert.Subset(t, keys, leanIndexedFields[:6], "a %s's index-time fields", activity)
				}
				_, risky := ev.Fields[auth0event.AttrRiskConfidence]
				if body, ok := ev.Event.(map[string]any); ok && format == signupprocessor.BodyFormatAuth0 {
					data, _ := body["data"].(map[string]any)
					details, _ := data["details"].(map[string]any)
					assert.Equal(t, details["riskAssessment"] != nil, risky, "a risk assessment in the record is in the fields")
				}
			}
			assert.ElementsMatch(t, leanIndexedFields, slices.Collect(maps.Keys(union)), "the index-time fields over a day of events")
		})
	}
}

// TestIndexedFieldsOptIn adds attributes to the index-time fields by name,
// as docs/splunk.md tells a user to: each event gains exactly those of them
// its record has, with the record's values, and is otherwise the same.
func TestIndexedFieldsOptIn(t *testing.T) {
	optIn := []string{auth0event.AttrUserID, auth0event.AttrLogID, auth0event.AttrConnection}
	for _, format := range bodyFormats {
		t.Run(format, func(t *testing.T) {
			lean := parseHECEvents(t, runPipeline(t, format))
			more := parseHECEvents(t, runPipeline(t, format, optIn...))
			require.Len(t, more, len(lean))
			gained := map[string]int{}
			for i := range lean {
				extra := maps.Clone(more[i].Fields)
				maps.DeleteFunc(extra, func(k string, _ any) bool { _, ok := lean[i].Fields[k]; return ok })
				for k := range extra {
					gained[k]++
				}
				assert.Subset(t, optIn, slices.Collect(maps.Keys(extra)), "only the fields opted in are added")
				for k, v := range lean[i].Fields {
					assert.Equal(t, v, more[i].Fields[k], "field %s", k)
				}
				assert.Equal(t, lean[i].Event, more[i].Event, "the event does not change")
				if body, ok := more[i].Event.(map[string]any); ok && body["userId"] != nil {
					assert.Equal(t, body["userId"], more[i].Fields[auth0event.AttrUserID], "the Rule's user, now also a field")
				}
				if body, ok := more[i].Event.(map[string]any); ok && body["log_id"] != nil {
					assert.Equal(t, body["log_id"], more[i].Fields[auth0event.AttrLogID], "the record's id, now also a field")
				}
			}
			for _, k := range optIn {
				assert.Positive(t, gained[k], "no event gained %s", k)
			}
		})
	}
}
