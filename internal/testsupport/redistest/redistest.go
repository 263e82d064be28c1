// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package redistest runs a real redis-server for a test: on a free loopback
// port, in a directory of its own, with the append-only file fsynced on
// every write, so that a server killed with SIGKILL and started again on the
// same directory holds every write it acknowledged.
package redistest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"

import (
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// Server is one redis-server process and the directory it keeps its data in.
type Server struct {
	t    testing.TB
	dir  string
	port int
	args []string

	mu sync.Mutex
	// proc is the last process started, running until Kill.
	proc    *childproc.Process
	running bool
}

// Option adds redis-server arguments, e.g. "--requirepass", "secret".
type Option []string

// Start starts a server, or fails the test saying how to install one.
// The server is killed when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed: run scripts/ensure-redis.sh (apt-get install redis-server)")
	}
	s := &Server{t: t, dir: t.TempDir(), port: childproc.FreePort()}
	for _, o := range opts {
		s.args = append(s.args, o...)
	}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Dir is the server's data directory.
func (s *Server) Dir() string { return s.dir }

// Restart starts the server on its directory and port (after Kill), and
// waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		s.t.Fatalf("redistest: Restart of a running server")
	}
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--logfile", "", "--maxmemory-policy", "noeviction",
	}, s.args...)
	proc, err := childproc.Start("redis-server", args, nil)
	if err != nil {
		s.t.Fatalf("redistest: starting redis-server: %v", err)
	}
	s.proc, s.running = proc, true
	if err := proc.WaitListen(s.Addr(), 10*time.Second); err != nil {
		s.t.Fatalf("redistest: redis-server: %v", err)
	}
}

// Kill stops the server with SIGKILL; its data directory stays.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	_, _ = s.proc.Stop(syscall.SIGKILL, 10*time.Second)
	s.running = false
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Client is a go-redis client of the server, closed when the test ends.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr(), DisableIdentity: true}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Log is what the server printed, the last time it ran.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return ""
	}
	return s.proc.Output()
}
