// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every sample is JSON as its name says, and the batch's formats hold the
// same events.
func TestSamples(t *testing.T) {
	var lines []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(Sample(LogStreamLines)), []byte("\n")) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(line, &rec), "%s", line)
		lines = append(lines, rec)
	}
	require.Len(t, lines, 5)

	var array []map[string]any
	require.NoError(t, json.Unmarshal(Sample(LogStreamArray), &array))
	assert.Equal(t, lines, array)

	var object map[string]any
	require.NoError(t, json.Unmarshal(Sample(LogStreamObject), &object))
	assert.Contains(t, lines, object)

	var bare []map[string]any
	require.NoError(t, json.Unmarshal(Sample(LogAPIBare), &bare))
	require.Len(t, bare, 2)
	assert.Equal(t, lines[0]["data"], bare[0])

	var action map[string]any
	require.NoError(t, json.Unmarshal(Sample(Action), &action))
	assert.Equal(t, 1.0, action["schema_version"])

	assert.Panics(t, func() { Sample("missing.json") })
}
