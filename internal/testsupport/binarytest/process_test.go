// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shell runs script in sh, which execs in place where the script says so.
func shell(t *testing.T, script string) *Process {
	return Run(t, "/bin/sh", []string{"-c", script}, nil)
}

// A SIGTERM the program handles ends it with the code it chooses; its
// output is kept.
func TestTerminateReturnsTheExitCode(t *testing.T) {
	p := shell(t, `trap 'echo draining; exit 3' TERM; echo started; while :; do sleep 0.05; done`)
	require.Eventually(t, func() bool { return p.Output() == "started\n" }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 3, p.Terminate(10*time.Second))
	assert.Equal(t, "started\ndraining\n", p.Output())
	assert.False(t, p.Running())
}

// OnExit gets the output once: when the test stops the process, not again
// when the test ends.
func TestOnExitOnce(t *testing.T) {
	var outputs []string
	t.Run("stopped", func(t *testing.T) {
		p := shell(t, `echo crash-me; exec sleep 60`)
		p.onExit = func(s string) { outputs = append(outputs, s) }
		require.Eventually(t, func() bool { return p.Output() != "" }, 10*time.Second, 10*time.Millisecond)
		p.Kill()
		assert.False(t, p.Running())
	})
	assert.Equal(t, []string{"crash-me\n"}, outputs)
}

// A process the test left running is killed when the test ends, and its
// output goes to OnExit then.
func TestCleanupKills(t *testing.T) {
	var p *Process
	var outputs []string
	t.Run("left running", func(t *testing.T) {
		p = shell(t, `echo left; exec sleep 60`)
		p.onExit = func(s string) { outputs = append(outputs, s) }
		require.Eventually(t, func() bool { return p.Output() != "" }, 10*time.Second, 10*time.Millisecond)
	})
	assert.False(t, p.Running())
	assert.Equal(t, []string{"left\n"}, outputs)
}

func TestTail(t *testing.T) {
	assert.Equal(t, "abc", tail("abc", 0))
	assert.Equal(t, "abc", tail("abc", 5))
	assert.Equal(t, "bc", tail("abc", 2))
}
