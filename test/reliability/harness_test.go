//go:build reliability

// Package reliability proves, against the built binary, that otelcol-auth0
// loses nothing it acknowledged and lets nobody in: crashes, outages,
// throttling, hostile input, floods. `make reliability` runs it at full
// length (RELIABILITY_SCALE=full), `make test` a bounded part (ci). Every
// test logs its figures with t.Logf and appends them to the report file
// named by RELIABILITY_REPORT, from which docs/reliability.md is written.
package reliability

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// Secrets configured in every run; TestSecretsNeverLeak looks for them in
// everything the collectors printed or served.
const (
	receiverSecret = "rel-receiver-secret-2f8c1d"
	hecToken       = "rel-hec-token-9a0b7e"
	clientSecret   = "rel-mgmt-secret-66d4c3"
	clientID       = "rel-mgmt-client"
	domain         = "reliability.eu.auth0.com"
)

// scale is "ci" (bounded, for `make test`) or "full" (`make reliability`).
func scale() string {
	if s := os.Getenv("RELIABILITY_SCALE"); s != "" {
		return s
	}
	return "ci"
}

// pick returns the ci or the full value.
func pick[T any](ci, full T) T {
	if scale() == "full" {
		return full
	}
	return ci
}

func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// outputs collects everything every collector of the suite printed, for
// the secret check.
var outputs struct {
	sync.Mutex
	texts []string
}

func recordOutput(s string) {
	outputs.Lock()
	outputs.texts = append(outputs.texts, s)
	outputs.Unlock()
}

// sinkServer is a HEC endpoint (loadtest.Sink) that can also go down
// entirely: its listener closed, connections refused.
type sinkServer struct {
	*loadtest.Sink
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

func startSink(t *testing.T) *sinkServer {
	t.Helper()
	s := &sinkServer{Sink: loadtest.NewSink(), addr: fmt.Sprintf("127.0.0.1:%d", loadtest.FreePort())}
	s.up(t)
	t.Cleanup(func() { s.down() })
	return s
}

func (s *sinkServer) URL() string { return "http://" + s.addr + "/services/collector" }

func (s *sinkServer) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger after down()
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err)
	srv := &http.Server{Handler: s.Sink, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

func (s *sinkServer) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
	}
}

// collector is one otelcol-auth0 process of the suite.
type collector struct {
	t        *testing.T
	proc     *loadtest.Process
	receiver string
	health   string
	metrics  int
	pprof    string
	zpages   string
	opts     collectorOptions
}

type collectorOptions struct {
	storage string
	hec     string
	// fake, when set, gives the signup processor Management API credentials.
	fake   *httptest.Server
	secret string // Management API client secret; clientSecret by default
	// indexedFields are attributes opted in as index-time fields, beside
	// loadtest.IDField, which every collector of the suite sends so that
	// the sink can tell events apart.
	indexedFields []string
	// files are extra --config files, overlays extra --config "yaml:..." arguments.
	files    []string
	overlays []string
	env      map[string]string
	// tmpfs, when set (a size such as "24m"), mounts a tmpfs of that size
	// on storage for the collector alone, in a user and mount namespace
	// of its own: a disk that fills.
	tmpfs string
}

func binary(t testing.TB) string {
	path := os.Getenv("OTELCOL_AUTH0_BINARY")
	require.NotEmpty(t, path, "OTELCOL_AUTH0_BINARY must name the built binary: run `make reliability`")
	return path
}

// unshareBinary finds util-linux's unshare and checks that this machine
// lets an unprivileged process mount a tmpfs in namespaces of its own.
func unshareBinary(t *testing.T) string {
	path, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) is needed to give the collector a small filesystem")
	if out, err := exec.Command(path, "-Urm", "sh", "-c", `mount -t tmpfs -o size=1m tmpfs "$0"`, t.TempDir()).CombinedOutput(); err != nil {
		t.Skipf("this machine does not allow a tmpfs in a user namespace: %v: %s", err, out)
	}
	return path
}

// start runs the collector with otelcol-config.yaml and the standard
// environment, on free ports.
func start(t *testing.T, opts collectorOptions) *collector {
	t.Helper()
	c := &collector{
		t:        t,
		receiver: fmt.Sprintf("127.0.0.1:%d", loadtest.FreePort()),
		health:   fmt.Sprintf("127.0.0.1:%d", loadtest.FreePort()),
		metrics:  loadtest.FreePort(),
		pprof:    fmt.Sprintf("127.0.0.1:%d", loadtest.FreePort()),
		zpages:   fmt.Sprintf("127.0.0.1:%d", loadtest.FreePort()),
		opts:     opts,
	}
	c.launch()
	return c
}

func (c *collector) launch() {
	t := c.t
	env := map[string]string{
		"AUTH0_RECEIVER_ENDPOINT": c.receiver,
		"AUTH0_RECEIVER_SECRET":   receiverSecret,
		"SPLUNK_HEC_ENDPOINT":     c.opts.hec,
		"SPLUNK_HEC_TOKEN":        hecToken,
		"OTELCOL_STORAGE_DIR":     c.opts.storage,
		"OTELCOL_HEALTH_ENDPOINT": c.health,
	}
	if c.opts.fake != nil {
		secret := c.opts.secret
		if secret == "" {
			secret = clientSecret
		}
		env["AUTH0_DOMAIN"], env["AUTH0_CLIENT_ID"], env["AUTH0_CLIENT_SECRET"], env["AUTH0_MANAGEMENT_URL"] = domain, clientID, secret, c.opts.fake.URL
	}
	for k, v := range c.opts.env {
		env[k] = v
	}
	config := filepath.Join(repoRoot(t), "otelcol-config.yaml")
	fields, err := hecfields.Overlay(config, append([]string{loadtest.IDField}, c.opts.indexedFields...)...)
	require.NoError(t, err)
	args := []string{
		"--config", config,
		"--config", fields,
		"--config", "yaml:extensions::pprof::endpoint: " + c.pprof,
		"--config", "yaml:extensions::zpages::endpoint: " + c.zpages,
		"--config", fmt.Sprintf("yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}}]", c.metrics),
	}
	for _, o := range queueStorageOverlays(t) {
		args = append(args, "--config", "yaml:"+o)
	}
	for _, f := range c.opts.files {
		args = append(args, "--config", f)
	}
	for _, o := range c.opts.overlays {
		args = append(args, "--config", "yaml:"+o)
	}
	path := binary(t)
	if c.opts.tmpfs != "" {
		// unshare execs in place, as does sh: the process stays the
		// collector's, for signals and /proc.
		args = append([]string{"-Urm", "sh", "-c", `mount -t tmpfs -o size=` + c.opts.tmpfs + ` tmpfs "$OTELCOL_STORAGE_DIR" && exec "$0" "$@"`, path}, args...)
		path = unshareBinary(t)
	}
	proc, err := loadtest.Start(path, args, env)
	require.NoError(t, err)
	c.proc = proc
	t.Cleanup(func() {
		if proc.Running() {
			_, _ = proc.Stop(syscall.SIGKILL, 10*time.Second)
		}
		recordOutput(proc.Output())
		if t.Failed() {
			t.Logf("collector output:\n%s", tail(proc.Output(), 4000))
		}
	})
	require.NoError(t, proc.WaitHTTP("http://"+c.health+"/", 60*time.Second))
}

// queueStorageOverlays move the exporter's queue to the storage extension
// RELIABILITY_QUEUE_STORAGE names, with the settings in
// RELIABILITY_QUEUE_STORAGE_SETTINGS (YAML flow-mapping entries), so that
// the suite compares storages on the same binary; unset, the queue stays
// where otelcol-config.yaml has it.
func queueStorageOverlays(t *testing.T) []string {
	name := os.Getenv("RELIABILITY_QUEUE_STORAGE")
	settings := ""
	if s := os.Getenv("RELIABILITY_QUEUE_STORAGE_SETTINGS"); s != "" {
		settings = ", " + s
	}
	var ext string
	switch name {
	case "":
		return nil
	case "journal_storage":
		ext = name + ": {directory: '${env:OTELCOL_STORAGE_DIR}', create_directory: true" + settings + "}"
	case "file_storage":
		ext = "file_storage: {directory: '${env:OTELCOL_STORAGE_DIR}', create_directory: true, fsync: true, " +
			"compaction: {directory: '${env:OTELCOL_STORAGE_DIR}', on_start: true, on_rebound: true}}"
	default:
		t.Fatalf("RELIABILITY_QUEUE_STORAGE=%s: not a storage extension of the distribution", name)
	}
	return []string{
		"extensions::" + ext,
		"exporters::splunk_hec::sending_queue::storage: " + name,
		"service::extensions: [health_check, " + name + ", file_storage/signup, pprof, zpages]",
	}
}

// restart starts the same collector again: same ports, same storage.
func (c *collector) restart() {
	c.launch()
}

func (c *collector) kill() {
	_, err := c.proc.Stop(syscall.SIGKILL, 10*time.Second)
	require.NoError(c.t, err)
	recordOutput(c.proc.Output())
}

// terminate sends SIGTERM and returns the exit code.
func (c *collector) terminate(timeout time.Duration) int {
	code, err := c.proc.Stop(syscall.SIGTERM, timeout)
	require.NoError(c.t, err)
	recordOutput(c.proc.Output())
	return code
}

func (c *collector) sender() *loadtest.Sender {
	s := loadtest.NewSender("http://"+c.receiver+"/auth0/logs", "Bearer "+receiverSecret)
	s.Acked = loadtest.NewIDSet()
	return s
}

// get fetches a path of the collector's metrics, pprof or zpages servers.
func (c *collector) get(url string) string {
	resp, err := http.Get(url)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return string(b)
}

func (c *collector) scrape() string {
	return c.get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metrics))
}

// goroutines is the collector's goroutine count, from its pprof extension.
func (c *collector) goroutines() int {
	body := c.get("http://" + c.pprof + "/debug/pprof/goroutine?debug=1")
	var n int
	_, err := fmt.Sscanf(body, "goroutine profile: total %d", &n)
	require.NoError(c.t, err)
	return n
}

// sampleAnon samples the collector's anonymous memory (Go heap and
// runtime; RSS also counts the persistent queue's mapped file, which grows
// with the backlog and which the kernel reclaims at will) until stop is
// called, which returns the peak.
func (c *collector) sampleAnon() (stop func() int64) {
	var peak int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if anon, _, err := loadtest.MemoryDetail(c.proc.Pid()); err == nil && anon > peak {
				peak = anon
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak
	}
}

func (c *collector) memory() (rss, peak int64) {
	rss, peak, err := loadtest.Memory(c.proc.Pid())
	require.NoError(c.t, err)
	return rss, peak
}

// waitDelivered waits until every acknowledged id reached the sink and
// returns how many did not.
func waitDelivered(sink *loadtest.Sink, acked *loadtest.IDSet, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		lost, _, _ := sink.Check(acked)
		if len(lost) == 0 || time.Now().After(deadline) {
			return len(lost)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fakeTenant runs the fake Management API in the test process.
func fakeTenant(t *testing.T) (*fakeauth0.Server, *httptest.Server) {
	fake := fakeauth0.New(clientID, clientSecret, "https://"+domain+"/api/v2/")
	fake.SetAutoCreate(true)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// report appends one test's figures to the report file.
func report(t *testing.T, figures map[string]any) {
	t.Helper()
	parts := make([]string, 0, len(figures))
	for k, v := range figures {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	t.Logf("figures: %s", strings.Join(parts, " "))
	path := os.Getenv("RELIABILITY_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	line, err := json.Marshal(map[string]any{"test": t.Name(), "scale": scale(), "figures": figures})
	require.NoError(t, err)
	_, err = f.Write(append(line, '\n'))
	require.NoError(t, err)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
