// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package binarytest runs the built otelcol-auth0 binary for the suites
// that test it from outside (test/e2e, test/reliability): it starts the
// binary with a configuration on free loopback ports, waits until its
// health check answers, keeps what it prints, stops it (SIGTERM, letting it
// drain, or SIGKILL, a crash) and reads its memory. What a suite sends the
// collector, and what it checks, stays in the suite.
package binarytest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// Path is the built binary, which OTELCOL_AUTH0_BINARY names: the Makefile
// targets that run these suites build it and set the variable.
func Path(t testing.TB) string {
	t.Helper()
	path := os.Getenv("OTELCOL_AUTH0_BINARY")
	require.NotEmpty(t, path, "OTELCOL_AUTH0_BINARY must name the built binary: run the suite with its make target (make e2e, make reliability)")
	_, err := os.Stat(path)
	require.NoError(t, err, "the binary does not exist: run `make build`")
	return path
}

// RepoRoot is the repository's root, where otelcol-config.yaml and config/
// are.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}
