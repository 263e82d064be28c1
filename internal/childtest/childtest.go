// Package childtest runs a test's body in a child process of the test
// binary, for tests that change what is per process: a resource limit, or
// namespaces of its own in which it may mount a small filesystem.
package childtest // import "github.com/otelcol-auth0/otelcol-auth0/internal/childtest"

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// Run runs test in a child process with env naming a fresh directory for
// it, and fails unless the child passed and reached its last step, which
// it marks with Done. attr, when set, may ask for namespaces: a machine
// that refuses them skips the test and says why.
func Run(t *testing.T, test, env string, attr *syscall.SysProcAttr) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+dir)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if attr != nil && errors.Is(err, syscall.EPERM) {
		t.Skipf("this machine does not allow user namespaces (%v), which the test needs for a small filesystem", err)
	}
	require.NoError(t, err, "the child process failed:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+test, "the child ran no test:\n%s", out)
	require.FileExists(t, filepath.Join(dir, "done"), "the child stopped before its last step:\n%s", out)
}

// Done marks, in the child, that the test ran to its end: a child that
// returned early (a skip, a Goexit) fails its parent.
func Done(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "done"), nil, 0o600))
}
