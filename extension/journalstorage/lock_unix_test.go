// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package journalstorage

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 1<<20)
	_, err := openJournal(dir, options{segmentSize: 1 << 20}, zap.NewNop())
	require.ErrorContains(t, err, "in use by another process or client")
	require.NoError(t, j.Close(context.Background()))
	j = open(t, dir, 1<<20)
	require.NoError(t, j.Close(context.Background()))
}
