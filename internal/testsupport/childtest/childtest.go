// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package childtest runs a test's body in a child process of the test
// binary, for tests that change what is per process: a resource limit, or
// namespaces of its own in which it may mount a small filesystem.
package childtest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childtest"

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// Run runs body in a child process: in the test process it starts the test
// binary again for this test alone, with env naming a fresh directory, and
// fails unless the child passed and body ran to its end; in that child it
// calls body with the directory. attr, when set, may ask for namespaces: a
// machine that refuses them skips the test and says why.
func Run(t *testing.T, env string, attr *syscall.SysProcAttr, body func(t *testing.T, dir string)) {
	t.Helper()
	if dir := os.Getenv(env); dir != "" {
		body(t, dir)
		// Not reached after a FailNow or a Skip in body: the parent then
		// fails, whatever the child's exit status.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "done"), nil, 0o600))
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run="+RunPattern(t.Name()), "-test.v")
	cmd.Env = append(os.Environ(), env+"="+dir)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if attr != nil && errors.Is(err, syscall.EPERM) {
		t.Skipf("this machine does not allow user namespaces (%v), which the test needs for a small filesystem", err)
	}
	require.NoError(t, err, "the child process failed:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child ran no test:\n%s", out)
	require.FileExists(t, filepath.Join(dir, "done"), "the child stopped before the end of the test:\n%s", out)
}

// RunPattern is the -test.run pattern of exactly the test or subtest named
// name: each level anchored, so that a subtest's parent (whose name the
// pattern's levels also match) does not run its own body too.
func RunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
