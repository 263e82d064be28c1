// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build reliability

// Package reliability proves, against the built binary, that otelcol-auth0
// loses nothing it acknowledged and lets nobody in: crashes, outages,
// throttling, hostile input, floods. `make reliability` runs it at full
// length (RELIABILITY_SCALE=full), `make test` a bounded part (ci). Every
// test logs its figures with t.Logf and appends them to the report file
// named by RELIABILITY_REPORT; `make reliability` keeps them in its dated
// result file, which docs/reliability.md cites.
package reliability

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
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
	s := &sinkServer{Sink: loadtest.NewSink(), addr: fmt.Sprintf("127.0.0.1:%d", childproc.FreePort())}
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
	*binarytest.Collector
	t    *testing.T
	opts collectorOptions
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
	c := &collector{t: t, opts: opts}
	c.launch(binarytest.FreeAddresses())
	return c
}

func (c *collector) launch(addrs binarytest.Addresses) {
	t := c.t
	t.Helper()
	env := map[string]string{
		"AUTH0_RECEIVER_SECRET": receiverSecret,
		"SPLUNK_HEC_ENDPOINT":   c.opts.hec,
		"SPLUNK_HEC_TOKEN":      hecToken,
	}
	if c.opts.fake != nil {
		secret := c.opts.secret
		if secret == "" {
			secret = clientSecret
		}
		env["AUTH0_DOMAIN"], env["AUTH0_CLIENT_ID"], env["AUTH0_CLIENT_SECRET"], env["AUTH0_MANAGEMENT_URL"] = domain, clientID, secret, c.opts.fake.URL
	}
	maps.Copy(env, c.opts.env)
	config := filepath.Join(binarytest.RepoRoot(t), "otelcol-config.yaml")
	fields, err := hecfields.Overlay(config, append([]string{loadtest.IDField}, c.opts.indexedFields...)...)
	require.NoError(t, err)
	configs := []string{config, fields}
	for _, o := range queueStorageOverlays(t) {
		configs = append(configs, "yaml:"+o)
	}
	configs = append(configs, c.opts.files...)
	for _, o := range c.opts.overlays {
		configs = append(configs, "yaml:"+o)
	}
	var command func(string, []string) (string, []string)
	if c.opts.tmpfs != "" {
		unshare := unshareBinary(t)
		command = func(binary string, args []string) (string, []string) {
			// unshare execs in place, as does sh: the process stays the
			// collector's, for signals and /proc.
			return unshare, append([]string{"-Urm", "sh", "-c", `mount -t tmpfs -o size=` + c.opts.tmpfs + ` tmpfs "$OTELCOL_STORAGE_DIR" && exec "$0" "$@"`, binary}, args...)
		}
	}
	c.Collector = binarytest.Start(t, binarytest.Options{
		Configs:          configs,
		Env:              env,
		Storage:          c.opts.storage,
		Addresses:        addrs,
		MoveDebugServers: true,
		Command:          command,
		OnExit:           recordOutput,
		LogTail:          4000,
	})
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
	overlays := []string{
		"extensions::" + ext,
		"exporters::splunk_hec::sending_queue::storage: " + name,
		"service::extensions: [health_check, " + name + ", file_storage/signup, pprof, zpages]",
	}
	if name != "journal_storage" {
		// The receiver's drain needs a storage that counts its queue
		// items: without one, shutdown does not wait for the queue.
		overlays = append(overlays, "receivers::auth0login::drain::storage: null")
	}
	return overlays
}

// restart starts the same collector again: same ports, same storage.
func (c *collector) restart() {
	c.launch(c.Addresses)
}

func (c *collector) sender() *loadtest.Sender {
	s := loadtest.NewSender("http://"+c.Receiver+"/auth0/logs", "Bearer "+receiverSecret)
	s.Acked = loadtest.NewIDSet()
	return s
}

// goroutines is the collector's goroutine count, from its pprof extension.
func (c *collector) goroutines() int {
	body := c.Get("http://" + c.PProf + "/debug/pprof/goroutine?debug=1")
	var n int
	_, err := fmt.Sscanf(body, "goroutine profile: total %d", &n)
	require.NoError(c.t, err)
	return n
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

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
