// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRepoRoot(t *testing.T) {
	assert.FileExists(t, filepath.Join(RepoRoot(t), "otelcol-config.yaml"))
	assert.FileExists(t, filepath.Join(RepoRoot(t), "go.mod"))
}

func TestPath(t *testing.T) {
	t.Setenv("OTELCOL_AUTH0_BINARY", os.Args[0])
	assert.Equal(t, os.Args[0], Path(t))
}
