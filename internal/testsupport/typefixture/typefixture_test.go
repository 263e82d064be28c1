// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package typefixture

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// One record per known type code, in code order, the same bytes every
// time; failures carry an error, client-credentials exchanges no user.
func TestBatch(t *testing.T) {
	batch := Batch()
	assert.Equal(t, batch, Batch())
	types := auth0event.KnownTypes()
	var codes []string
	for _, line := range bytes.Split(bytes.TrimSuffix(batch, []byte("\n")), []byte("\n")) {
		var rec struct {
			LogID string         `json:"log_id"`
			Data  map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(line, &rec), "%s", line)
		assert.Equal(t, rec.LogID, rec.Data["log_id"])
		code := rec.Data["type"].(string)
		codes = append(codes, code)
		switch code {
		case "seccft", "feccft":
			assert.NotContains(t, rec.Data, "user_id", code)
			assert.Contains(t, rec.Data, "audience", code)
		default:
			assert.Contains(t, rec.Data, "user_id", code)
		}
		if types[code].Kind == auth0event.KindFailure {
			assert.Contains(t, rec.Data["details"], "error", code)
		}
	}
	assert.Equal(t, slices.Sorted(maps.Keys(types)), codes)
}
