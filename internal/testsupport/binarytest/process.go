// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// Process is a program a test started. When the test ends it is killed if
// it still runs, and its output is logged if the test failed. The embedded
// childproc.Process gives its pid, output and readiness waits, and a Stop
// that does not fail the test, for goroutines other than the test's.
type Process struct {
	*childproc.Process
	t    testing.TB
	name string
	// onExit, when set, gets the output once the process has exited.
	onExit   func(output string)
	exitOnce sync.Once
	// logTail bounds the bytes of output logged on failure; 0 logs all.
	logTail int
}

// Run starts path with args, and env added to the test process's
// environment.
func Run(t testing.TB, path string, args []string, env map[string]string) *Process {
	t.Helper()
	p := &Process{t: t, name: filepath.Base(path)}
	p.start(path, args, env)
	return p
}

func (p *Process) start(path string, args []string, env map[string]string) {
	p.t.Helper()
	proc, err := childproc.Start(path, args, env)
	require.NoError(p.t, err)
	p.Process = proc
	p.t.Cleanup(func() {
		if p.Running() {
			_, _ = p.Process.Stop(syscall.SIGKILL, killWait)
		}
		p.exited()
		if p.t.Failed() {
			p.t.Logf("output of %s:\n%s", p.name, tail(p.Output(), p.logTail))
		}
	})
}

// killWait bounds the wait for a process to go after SIGKILL.
const killWait = 10 * time.Second

// Terminate sends SIGTERM, which lets the collector drain, and returns the
// exit code; the test fails if the process is still there after timeout.
func (p *Process) Terminate(timeout time.Duration) int {
	p.t.Helper()
	return p.stop(syscall.SIGTERM, timeout)
}

// Kill ends the process with SIGKILL, as a crash would.
func (p *Process) Kill() {
	p.t.Helper()
	p.stop(syscall.SIGKILL, killWait)
}

func (p *Process) stop(sig syscall.Signal, timeout time.Duration) int {
	p.t.Helper()
	code, err := p.Process.Stop(sig, timeout)
	p.exited()
	require.NoError(p.t, err)
	return code
}

// exited hands the output to onExit, once.
func (p *Process) exited() {
	if p.onExit != nil {
		p.exitOnce.Do(func() { p.onExit(p.Output()) })
	}
}

func tail(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
