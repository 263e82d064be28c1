//go:build e2e

// Package e2e runs the built otelcol-auth0 binary as a platform team would:
// from otelcol-config.yaml and environment variables only. `make e2e` builds
// the binary and points OTELCOL_AUTH0_BINARY at it.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// repoRoot is where otelcol-config.yaml lives.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("OTELCOL_AUTH0_BINARY")
	require.NotEmpty(t, path, "OTELCOL_AUTH0_BINARY must name the built binary: run `make e2e`")
	_, err := os.Stat(path)
	require.NoError(t, err, "the binary does not exist: run `make build`")
	return path
}

func freePort(t testing.TB) int {
	t.Helper()
	return loadtest.FreePort()
}

// Collector is one running otelcol-auth0 process.
type Collector struct {
	*loadtest.Process
	t testing.TB

	// Addresses of what this instance listens on.
	Receiver string
	Health   string
	Metrics  string
	LocalHEC string
	HECFile  string
	Storage  string
	Env      map[string]string
}

// Options change how a Collector starts.
type Options struct {
	// Env adds or overrides environment variables.
	Env map[string]string
	// LocalHEC starts cmd/localhec, the local HEC endpoint writing to a
	// file, and points the exporter at it, as `make run` does.
	LocalHEC bool
	// Storage reuses a persistent queue directory (a restart).
	Storage string
	// HECEndpoint points the exporter at a HEC endpoint of another process.
	HECEndpoint string
	// Config replaces otelcol-config.yaml (a path relative to the repository).
	Config string
	// Configs are extra command-line arguments: "--config" and its value, per file or overlay.
	Configs []string
}

// StartCollector runs the binary with otelcol-config.yaml and the standard
// environment variables on free loopback ports, and waits until it is healthy.
func StartCollector(t testing.TB, opts Options) *Collector {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	c := &Collector{
		t:        t,
		Receiver: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		Health:   fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		Metrics:  fmt.Sprint(freePort(t)),
		Storage:  opts.Storage,
	}
	if c.Storage == "" {
		c.Storage = filepath.Join(dir, "storage")
	}
	c.Env = map[string]string{
		"AUTH0_RECEIVER_ENDPOINT": c.Receiver,
		"AUTH0_RECEIVER_SECRET":   Secret,
		"OTELCOL_STORAGE_DIR":     c.Storage,
		"OTELCOL_HEALTH_ENDPOINT": c.Health,
		"SPLUNK_HEC_TOKEN":        HECToken,
	}
	config := "otelcol-config.yaml"
	if opts.Config != "" {
		config = opts.Config
	}
	args := []string{"--config", filepath.Join(root, config)}
	if opts.LocalHEC {
		hec := StartHEC(t)
		c.LocalHEC, c.HECFile = hec.LocalHEC, hec.HECFile
		c.Env["SPLUNK_HEC_ENDPOINT"] = hec.URL()
	}
	if opts.HECEndpoint != "" {
		c.Env["SPLUNK_HEC_ENDPOINT"] = opts.HECEndpoint
	}
	for k, v := range opts.Env {
		c.Env[k] = v
	}
	args = append(args, opts.Configs...)
	// Ports that otelcol-config.yaml fixes, moved so that tests can run
	// beside each other and beside `make run`.
	if opts.Config == "" {
		args = append(args,
			"--config", fmt.Sprintf("yaml:extensions::pprof::endpoint: 127.0.0.1:%d", freePort(t)),
			"--config", fmt.Sprintf("yaml:extensions::zpages::endpoint: 127.0.0.1:%d", freePort(t)))
	}
	args = append(args, "--config", "yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: "+c.Metrics+"}}}}]")

	c.run(binary(t), args...)
	c.WaitHealthy(30 * time.Second)
	return c
}

// run starts the process and arranges for it to be killed after the test.
func (c *Collector) run(path string, args ...string) {
	t := c.t
	p, err := loadtest.Start(path, args, c.Env)
	require.NoError(t, err)
	c.Process = p
	t.Cleanup(func() {
		if c.Running() {
			_, _ = c.Process.Stop(syscall.SIGKILL, 10*time.Second)
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(path), c.Output())
		}
	})
}

// StartHEC runs cmd/localhec, the local HEC endpoint `make run` starts: a
// stand-in for Splunk in its own process, writing each HEC event that
// arrives to a file, one per line.
func StartHEC(t testing.TB) *Collector {
	t.Helper()
	c := &Collector{t: t}
	c.LocalHEC = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.HECFile = filepath.Join(t.TempDir(), "hec-events.jsonl")
	c.Env = map[string]string{"SPLUNK_HEC_TOKEN": HECToken}
	c.run(localHECBinary(t), "-listen", c.LocalHEC, "-file", c.HECFile)
	waitListening(t, c, c.LocalHEC)
	return c
}

// localHECBinary is cmd/localhec: LOCALHEC_BINARY, or built once for the run.
func localHECBinary(t testing.TB) string {
	t.Helper()
	if path := os.Getenv("LOCALHEC_BINARY"); path != "" {
		return path
	}
	localHEC.once.Do(func() {
		dir, err := os.MkdirTemp("", "e2e-localhec-")
		if err != nil {
			localHEC.err = err
			return
		}
		localHEC.path = filepath.Join(dir, "localhec")
		cmd := exec.Command("go", "build", "-o", localHEC.path, "./cmd/localhec")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			localHEC.err = fmt.Errorf("go build ./cmd/localhec: %w\n%s", err, out)
		}
	})
	require.NoError(t, localHEC.err)
	return localHEC.path
}

var localHEC struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if localHEC.path != "" {
		_ = os.RemoveAll(filepath.Dir(localHEC.path))
	}
	os.Exit(code)
}

// URL is the HEC endpoint an exporter should send to.
func (c *Collector) URL() string { return "http://" + c.LocalHEC + "/services/collector" }

func waitListening(t testing.TB, c *Collector, addr string) {
	t.Helper()
	for range 300 {
		if !c.Running() {
			t.Fatalf("process exited during start:\n%s", c.Output())
		}
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s:\n%s", addr, c.Output())
}

// WaitHealthy waits for the health_check extension to report ready.
func (c *Collector) WaitHealthy(timeout time.Duration) {
	c.t.Helper()
	require.NoError(c.t, c.WaitHTTP("http://"+c.Health+"/", timeout), "collector not healthy")
}

// Stop sends sig and waits for the process to exit; it returns the exit code.
func (c *Collector) Stop(sig syscall.Signal, timeout time.Duration) int {
	c.t.Helper()
	code, err := c.Process.Stop(sig, timeout)
	require.NoError(c.t, err)
	return code
}

// Post sends body to a receiver path with the secret and returns the status
// and response body.
func (c *Collector) Post(path string, body []byte) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+c.Receiver+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(b)
}

// Scrape returns the collector's own Prometheus metrics.
func (c *Collector) Scrape() string {
	c.t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + c.Metrics + "/metrics")
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return string(b)
}

// HECRecords reads the HEC events the local HEC endpoint has written so
// far, as records: each one's body is the event, its attributes the
// event's fields, with host, source, sourcetype and index under the names
// the contrib splunk_hec receiver gives them.
func (c *Collector) HECRecords() []plog.LogRecord {
	c.t.Helper()
	return readHECFile(c.t, c.HECFile)
}

// readHECFile reads a file of HEC events, one JSON object per line.
func readHECFile(t testing.TB, path string) []plog.LogRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []plog.LogRecord
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev struct {
			Time       float64        `json:"time"`
			Host       string         `json:"host"`
			Source     string         `json:"source"`
			SourceType string         `json:"sourcetype"`
			Index      string         `json:"index"`
			Event      any            `json:"event"`
			Fields     map[string]any `json:"fields"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			continue // a line still being written
		}
		lr := plog.NewLogRecord()
		require.NoError(t, lr.Body().FromRaw(ev.Event))
		require.NoError(t, lr.Attributes().FromRaw(ev.Fields))
		for key, v := range map[string]string{"host.name": ev.Host, "com.splunk.source": ev.Source,
			"com.splunk.sourcetype": ev.SourceType, "com.splunk.index": ev.Index} {
			if _, ok := lr.Attributes().Get(key); !ok && v != "" {
				lr.Attributes().PutStr(key, v)
			}
		}
		lr.SetTimestamp(pcommon.Timestamp(ev.Time * 1e9))
		out = append(out, lr)
	}
	return out
}

// WaitHECRecords waits until at least n records reached the local HEC.
func (c *Collector) WaitHECRecords(n int, timeout time.Duration) []plog.LogRecord {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		records := c.HECRecords()
		if len(records) >= n {
			return records
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("%d HEC records after %s, want %d\n%s", len(records), timeout, n, c.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Secrets of the test environment: they must never be printed.
const (
	Secret   = "e2e-receiver-secret-4c1f9a"
	HECToken = "e2e-hec-token-77d2b0"
)

func assertNoSecrets(t testing.TB, output string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(output, s) {
			t.Errorf("a secret appears in the collector's output: %q", s)
		}
	}
}
