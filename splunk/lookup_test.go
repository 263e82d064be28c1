// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

var lookupPath = filepath.Join(taRoot, "lookups", "auth0_log_types.csv")

// The type lookup is the collector's own table (internal/auth0event): a
// type the collector learns is named in Splunk too. -update rewrites it.
func TestLogTypesLookup(t *testing.T) {
	types := auth0event.KnownTypes()
	codes := make([]string, 0, len(types))
	for code := range types {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(t, w.Write([]string{"auth0_type", "type_name", "type_category"}))
	for _, code := range codes {
		require.NoError(t, w.Write([]string{code, types[code].Name, types[code].Kind.String()}))
	}
	w.Flush()
	require.NoError(t, w.Error())
	if *update {
		require.NoError(t, os.WriteFile(lookupPath, buf.Bytes(), 0o644))
	}
	got, err := os.ReadFile(lookupPath)
	require.NoError(t, err, "run `go test ./splunk -update` to create it")
	assert.Equal(t, buf.String(), string(got), "%s differs from internal/auth0event's table: run `go test ./splunk -update`", lookupPath)

	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, len(types)+1)
	assert.Contains(t, rows, []string{"fp", "Failed Login (Wrong Password)", "failure"})
}
