package childproc // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a collector (or any program) started for a load run.
type Process struct {
	cmd    *exec.Cmd
	output SyncBuffer
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

// Output is everything the process printed.
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

// WaitHTTP waits until url answers 200.
func (p *Process) WaitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !p.Running() {
			return fmt.Errorf("exited during start (%v):\n%s", p.err, p.Output())
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s:\n%s", url, timeout, p.Output())
}

// Stop sends sig and waits up to timeout; it returns the exit code
// (-1 when killed by a signal).
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) (int, error) {
	if p.Running() {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
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

// FreePort returns a loopback port nothing listens on right now.
//
// A port the kernel hands out for ":0" comes from the ephemeral range, the
// same range outbound connections take their source ports from: between
// this check and the collector binding it, a load generator's connection
// could take it ("address already in use"). So the port is drawn below the
// ephemeral range, and never handed out twice by one process.
func FreePort() int {
	portsMu.Lock()
	defer portsMu.Unlock()
	low := ephemeralLow()
	for range 1000 {
		port := firstPort + rand.IntN(low-firstPort)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[port] = true
		return port
	}
	panic("loadtest: no free port below the ephemeral range")
}

const firstPort = 10000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux;
// IANA's 49152 elsewhere).
func ephemeralLow() int {
	low := 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > firstPort+1000 {
				low = n
			}
		}
	}
	return low
}

// SyncBuffer collects a child process's output while tests read it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
