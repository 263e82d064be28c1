// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSegmentNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"0000000000000002.journal", "000000000000000a.journal", "LOCK", "notes.txt", "2.journal"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	ids, err := segmentIDs(dir)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 10}, ids)
}
