// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc

import (
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childEnv makes the test binary a child of the tests: its value names
// the function in children it runs instead of the tests.
const childEnv = "CHILDPROC_TEST_CHILD"

var children = map[string]func(){"serve": serveChild}

func TestMain(m *testing.M) {
	if child := os.Getenv(childEnv); child != "" {
		children[child]()
		return
	}
	os.Exit(m.Run())
}

// serveChild answers 200 on CHILDPROC_TEST_ADDR until it is stopped.
func serveChild() {
	fmt.Println("serving")
	err := http.ListenAndServe(os.Getenv("CHILDPROC_TEST_ADDR"), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	fmt.Println(err)
	os.Exit(1)
}

func shell(t *testing.T, script string) *Process {
	t.Helper()
	p, err := Start("/bin/sh", []string{"-c", script}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = p.Stop(syscall.SIGKILL, 10*time.Second) })
	return p
}

// A server is ready once it answers; SIGTERM, which it does not handle,
// ends it with -1.
func TestWaitForAServer(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort())
	p, err := Start(os.Args[0], []string{"-test.run=^$"}, map[string]string{childEnv: "serve", "CHILDPROC_TEST_ADDR": addr})
	require.NoError(t, err)
	require.NoError(t, p.WaitListen(addr, time.Minute))
	require.NoError(t, p.WaitHTTP("http://"+addr+"/", time.Minute))
	assert.Equal(t, "serving\n", p.Output())
	assert.True(t, p.Running())
	code, err := p.Stop(syscall.SIGTERM, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, -1, code)
	assert.False(t, p.Running())
}

// A process that exits while it is waited for ends the wait at once, with
// what it printed.
func TestWaitForAProcessThatExits(t *testing.T) {
	p := shell(t, `echo "bad config"; exit 2`)
	err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/", FreePort()), time.Minute)
	require.ErrorContains(t, err, "exited during start")
	assert.ErrorContains(t, err, "bad config")
}

// Nothing listening within the timeout is an error that says what was
// waited for and what the process printed.
func TestWaitTimesOut(t *testing.T) {
	p := shell(t, `echo started; exec sleep 60`)
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort())
	err := p.WaitListen(addr, 200*time.Millisecond)
	require.ErrorContains(t, err, addr+" not ready after 200ms")
	assert.ErrorContains(t, err, "started")
	assert.True(t, p.Running())
}

// Stop returns the code the process chose on the signal.
func TestStopReturnsTheExitCode(t *testing.T) {
	p := shell(t, `trap 'exit 3' TERM; echo started; while :; do sleep 0.05; done`)
	require.Eventually(t, func() bool { return p.Output() == "started\n" }, time.Minute, 10*time.Millisecond)
	code, err := p.Stop(syscall.SIGTERM, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 3, code)
}

// A process that ignores the signal is killed after the timeout, and Stop
// says so.
func TestStopKillsAfterTheTimeout(t *testing.T) {
	p := shell(t, `trap '' TERM; echo started; while :; do sleep 0.05; done`)
	require.Eventually(t, func() bool { return p.Output() == "started\n" }, time.Minute, 10*time.Millisecond)
	_, err := p.Stop(syscall.SIGTERM, 200*time.Millisecond)
	require.ErrorContains(t, err, "did not exit within 200ms of terminated")
	assert.False(t, p.Running())
	// Stopping again, or signaling, a process that is gone is no error.
	require.NoError(t, p.Signal(syscall.SIGTERM))
	_, err = p.Stop(syscall.SIGTERM, time.Second)
	require.NoError(t, err)
}
