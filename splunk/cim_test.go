// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// docsPath is where the CIM mapping table is documented.
const docsPath = "../docs/splunk.md"

// mappingRow is one row of the table in docs/splunk.md: the events it
// takes (cim keys: a type code or SignUp; conditions: field=value on the
// search-time fields, all of which must hold), its data model, the tags
// it promises and the field values.
type mappingRow struct {
	line       int
	keys       []string
	conditions map[string]string
	model      string
	tags       []string
	values     map[string]string
}

var backticked = regexp.MustCompile("`([^`]+)`")

// readMappingTable reads the table under "## CIM mapping" whose header is
// "| Auth0 type codes | Data model | Tags | Field values |".
func readMappingTable(t *testing.T) []mappingRow {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	require.NoError(t, err)
	var rows []mappingRow
	in := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| Auth0 type codes | Data model | Tags | Field values |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cells, 4, "%s line %d", docsPath, i+1)
		r := mappingRow{line: i + 1, conditions: map[string]string{}, values: map[string]string{}, model: strings.TrimSpace(cells[1])}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			if k, v, ok := strings.Cut(m[1], "="); ok {
				r.conditions[k] = v
			} else {
				r.keys = append(r.keys, m[1])
			}
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			r.tags = append(r.tags, m[1])
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[3], -1) {
			k, v, ok := strings.Cut(m[1], "=")
			require.True(t, ok, "%s line %d: field values are `field=value`", docsPath, i+1)
			r.values[k] = v
		}
		rows = append(rows, r)
	}
	require.NotEmpty(t, rows, "%s has no CIM mapping table", docsPath)
	return rows
}

func (r mappingRow) applies(view map[string]string) bool {
	if len(r.keys) > 0 && !slices.Contains(r.keys, view["auth0_cim_key"]) {
		return false
	}
	for k, v := range r.conditions {
		if !globMatch(v, view[k]) {
			return false
		}
	}
	return true
}

// cimTags are the tags that put an event in a CIM data model (or dataset).
var cimTags = []string{"authentication", "privileged", "default", "change", "account", "alert"}

// modelFields are the fields each data model's searches and Enterprise
// Security rely on (CIM's required and recommended ones that Auth0 has),
// which every event the table maps to the model must have.
var modelFields = map[string][]string{
	"Authentication":              {"action", "app", "dest", "signature", "signature_id", "src", "user", "vendor_product", "authentication_method"},
	"Change (Account_Management)": {"action", "change_type", "dest", "object", "object_id", "object_category", "status", "user", "vendor_product", "signature", "signature_id"},
	"Alerts":                      {"app", "dest", "severity", "signature", "signature_id", "src", "type", "user", "vendor_product"},
}

// Every golden event (a tenant's day and one event of every known type
// code, in both body formats) gets exactly the tags the docs' mapping
// table promises for it, the field values of its rows, and every field its
// data models need; an event the table does not map gets no CIM tag. The
// table and the add-on's CIM lookup name the same type codes, and every
// one of them is among the golden events.
func TestCIMMapping(t *testing.T) {
	rows := readMappingTable(t)
	props := readProps(t)
	eventtypes, tags := readEventtypes(t), readTags(t)
	known := auth0event.KnownTypes()

	documented := map[string]bool{}
	for _, r := range rows {
		_, ok := modelFields[r.model]
		assert.True(t, ok, "%s line %d: data model %q is none of %v", docsPath, r.line, r.model, modelFields)
		assert.NotEmpty(t, r.tags, "%s line %d: no tags", docsPath, r.line)
		for _, k := range r.keys {
			_, isCode := known[k]
			assert.True(t, isCode || k == "SignUp", "%s line %d: %s is no type code the collector knows", docsPath, r.line, k)
			documented[k] = true
		}
	}
	for _, l := range props.lookups {
		if l.table != "auth0_cim" {
			continue
		}
		for key, row := range l.rows {
			assert.True(t, documented[key], "auth0_cim.csv maps %s, which the docs' table does not", key)
			if ti, ok := known[key]; ok {
				assert.Equal(t, ti.Name, row["signature"], "auth0_cim.csv: %s's signature is the collector's name for it", key)
			}
		}
	}

	seen := map[string]bool{}
	for file, events := range allGoldenEvents(t) {
		for i, ev := range events {
			view := props.view(t, ev)
			where := fmt.Sprintf("%s event %d (%s)", file, i+1, view["auth0_cim_key"])
			seen[view["auth0_cim_key"]] = true
			ets, got := classify(t, eventtypes, tags, view, ev)
			var want []string
			for _, r := range rows {
				if !r.applies(view) {
					continue
				}
				want = append(want, r.tags...)
				for k, v := range r.values {
					assert.Equal(t, v, view[k], "%s: %s (docs line %d)", where, k, r.line)
				}
				for _, f := range modelFields[r.model] {
					if (f == "user" || f == "authentication_method") && slices.Contains([]string{"seccft", "feccft"}, view["signature_id"]) {
						continue // a client-credentials exchange has a client, no user
					}
					assert.NotEmpty(t, view[f], "%s: %s needs %s (docs line %d)", where, r.model, f, r.line)
				}
				if r.model == "Authentication" && view["action"] == "failure" {
					assert.NotEmpty(t, view["reason"], "%s: a failed authentication has a reason", where)
				}
				if r.model == "Alerts" && view["data.type"] != "" {
					assert.NotEmpty(t, view["id"], "%s: an Auth0 record's alert has its log id", where)
					assert.NotEmpty(t, view["description"], "%s: an Auth0 record's alert has a description", where)
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			var gotCIM []string
			for _, tag := range got {
				if slices.Contains(cimTags, tag) {
					gotCIM = append(gotCIM, tag)
				}
			}
			assert.Equal(t, want, gotCIM, "%s: CIM tags (eventtypes %v)", where, ets)
			if len(want) == 0 {
				for _, f := range []string{"action", "severity", "type", "object_category"} {
					assert.Empty(t, view[f], "%s: an event no data model takes has no %s", where, f)
				}
			}
		}
	}
	for k := range documented {
		assert.True(t, seen[k], "the table maps %s, but no golden event has it", k)
	}
}
