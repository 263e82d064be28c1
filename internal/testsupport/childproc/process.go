// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package childproc controls a program a test or the benchmark runs as a
// child process: it starts it with its output kept, waits until it serves,
// stops it with a signal, hands out loopback ports for it to listen on and
// reads its CPU time and memory from the operating system. What the child
// is sent, and what is checked, stays with the caller.
package childproc // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a running child process.
type Process struct {
	cmd    *exec.Cmd
	output syncBuffer
	exited chan struct{}
	err    error
}

// Start runs path with args and env added to this process's environment.
func Start(path string, args []string, env map[string]string) (*Process, error) {
	p := &Process{exited: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = os.Environ()
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout = &p.output
	p.cmd.Stderr = &p.output
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output is everything the process printed, standard output and error
// interleaved.
func (p *Process) Output() string { return p.output.String() }

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// pollInterval is how often the Wait methods try again.
const pollInterval = 50 * time.Millisecond

// WaitHTTP waits until url answers 200.
func (p *Process) WaitHTTP(url string, timeout time.Duration) error {
	return p.wait(url, timeout, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// WaitListen waits until a TCP connection to addr (host:port) succeeds.
func (p *Process) WaitListen(addr string, timeout time.Duration) error {
	return p.wait(addr, timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, pollInterval)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// wait polls ready until it holds, the process exits or timeout passes.
func (p *Process) wait(what string, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if !p.Running() {
			return fmt.Errorf("exited during start (%w):\n%s", p.err, p.Output())
		}
		if ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s:\n%s", what, timeout, p.Output())
		}
		time.Sleep(pollInterval)
	}
}

// Signal sends sig to the process, if it still runs.
func (p *Process) Signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Stop sends sig and waits up to timeout, then kills the process; it
// returns the exit code (-1 when a signal ended it).
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) (int, error) {
	if p.Running() {
		if err := p.Signal(sig); err != nil {
			return 0, err
		}
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return 0, fmt.Errorf("did not exit within %s of %s", timeout, sig)
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	return 0, p.err
}

// syncBuffer collects a child process's output while the caller reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
