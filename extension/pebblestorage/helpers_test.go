package pebblestorage

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func testOptions() clientOptions {
	return clientOptions{fsync: true, memTableSize: 1 << 20, reserve: 2 << 20}
}

func openTest(t testing.TB, dir string, opts clientOptions) *client {
	t.Helper()
	c, err := openClient(dir, 0o750, opts, zap.NewNop())
	require.NoError(t, err)
	return c
}
