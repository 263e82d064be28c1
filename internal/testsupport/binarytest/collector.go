// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// Addresses are where a collector listens, on loopback.
type Addresses struct {
	Receiver string // the auth0login receiver: AUTH0_RECEIVER_ENDPOINT
	Health   string // the health_check extension: OTELCOL_HEALTH_ENDPOINT
	Metrics  int    // the port of the collector's own metrics (Prometheus)
	PProf    string // the pprof extension, with Options.MoveDebugServers
	ZPages   string // the zpages extension, with Options.MoveDebugServers
}

// FreeAddresses takes ports nothing listens on (childproc.FreePort).
func FreeAddresses() Addresses {
	addr := func() string { return fmt.Sprintf("127.0.0.1:%d", childproc.FreePort()) }
	return Addresses{Receiver: addr(), Health: addr(), Metrics: childproc.FreePort(), PProf: addr(), ZPages: addr()}
}

// Options say how a collector starts.
type Options struct {
	// Configs are the --config values in order: a configuration file, then
	// files and "yaml:" overlays that change it.
	Configs []string
	// Env is added to the test process's environment, over the variables
	// the harness sets (the addresses' and OTELCOL_STORAGE_DIR).
	Env map[string]string
	// Storage is OTELCOL_STORAGE_DIR; a new temporary directory when empty.
	// Starting again on the same one is a restart.
	Storage string
	// Addresses are new free ports when zero; the same ones again for a
	// restart that clients find where they were.
	Addresses Addresses
	// MoveDebugServers puts the pprof and zpages extensions, at fixed
	// ports in otelcol-config.yaml, on Addresses.PProf and ZPages, so that
	// collectors run beside each other and beside `make run`. Only for a
	// configuration that has both.
	MoveDebugServers bool
	// Command, when set, runs the binary through another program: it
	// gets the binary and its arguments and returns what to run. That
	// program must exec the binary in place, so that signals and /proc
	// reach the collector.
	Command func(binary string, args []string) (path string, wrapped []string)
	// OnExit, when set, gets everything the collector printed, once it
	// has exited (stopped by the test, or killed when the test ends).
	OnExit func(output string)
	// LogTail bounds how much of the output a failed test logs; all of it
	// when 0.
	LogTail int
}

// Collector is a running otelcol-auth0 process whose health check answered.
type Collector struct {
	*Process
	Addresses
	Storage string
}

// readyTimeout bounds the wait for the health check, which a shared
// machine running the race detector can make long.
const readyTimeout = 60 * time.Second

// Start runs the built binary as Options say, and waits until it is
// healthy.
func Start(t testing.TB, opts Options) *Collector {
	t.Helper()
	c := &Collector{Addresses: opts.Addresses, Storage: opts.Storage}
	if c.Addresses == (Addresses{}) {
		c.Addresses = FreeAddresses()
	}
	if c.Storage == "" {
		c.Storage = t.TempDir()
	}
	env := map[string]string{
		"AUTH0_RECEIVER_ENDPOINT": c.Receiver,
		"OTELCOL_HEALTH_ENDPOINT": c.Health,
		"OTELCOL_STORAGE_DIR":     c.Storage,
	}
	maps.Copy(env, opts.Env)
	var args []string
	for _, config := range opts.Configs {
		args = append(args, "--config", config)
	}
	if opts.MoveDebugServers {
		args = append(args,
			"--config", "yaml:extensions::pprof::endpoint: "+c.PProf,
			"--config", "yaml:extensions::zpages::endpoint: "+c.ZPages)
	}
	args = append(args, "--config", fmt.Sprintf("yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}}]", c.Metrics))

	path := Path(t)
	c.Process = &Process{t: t, name: "otelcol-auth0", onExit: opts.OnExit, logTail: opts.LogTail}
	if opts.Command != nil {
		path, args = opts.Command(path, args)
	}
	c.start(path, args, env)
	require.NoError(t, c.WaitHTTP("http://"+c.Health+"/", readyTimeout), "collector not healthy")
	return c
}

// Scrape returns the collector's own metrics, in Prometheus format.
func (c *Collector) Scrape() string {
	c.t.Helper()
	return c.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Metrics))
}

// Get returns the body at url: one of the collector's servers (metrics,
// pprof, zpages).
func (c *Collector) Get(url string) string {
	c.t.Helper()
	resp, err := http.Get(url)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return string(b)
}
