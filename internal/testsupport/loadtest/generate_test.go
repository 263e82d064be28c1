// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

func TestGeneratedBatchesAreAuth0LogStreams(t *testing.T) {
	g := NewGenerator("t1")
	b := g.Next(rand.New(rand.NewPCG(1, 1)), 100, FormatAuth0, false)
	require.Len(t, b.IDs, 100)
	types := map[string]int{}
	var ids []string
	_, rejected, err := auth0event.WalkLogStream(b.Body, auth0event.DefaultLimits, func(rec pcommon.Map) {
		h := auth0event.LogEventHeader(rec)
		ids = append(ids, h.ID)
		types[h.Type]++
	})
	require.NoError(t, err)
	require.Empty(t, rejected)
	assert.Equal(t, b.IDs, ids)
	assert.Greater(t, types["s"], 40)
	assert.InDelta(t, 950, len(b.Body)/100, 150, "about 0.9 KB an event")

	next := g.Next(rand.New(rand.NewPCG(1, 1)), 1, FormatAuth0, false)
	assert.NotEqual(t, b.IDs[0], next.IDs[0], "ids never repeat")
}
