// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEnv makes the test binary a stand-in for the collector.
const fakeEnv = "BINARYTEST_FAKE_COLLECTOR"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		fakeCollector()
		return
	}
	os.Exit(m.Run())
}

// fakeCollector prints its arguments and the harness's variables, answers
// the health check and the metrics port the arguments name, and exits 0
// on SIGTERM as the collector does once drained.
func fakeCollector() {
	args := strings.Join(os.Args[1:], " ")
	fmt.Printf("args: %s\n", args)
	for _, k := range []string{"AUTH0_RECEIVER_ENDPOINT", "OTELCOL_HEALTH_ENDPOINT", "OTELCOL_STORAGE_DIR", "EXTRA"} {
		fmt.Printf("%s=%s\n", k, os.Getenv(k))
	}
	terminated := make(chan os.Signal, 1)
	signal.Notify(terminated, syscall.SIGTERM)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("fake_metric 1\n")) })
	go func() { _ = http.ListenAndServe(os.Getenv("OTELCOL_HEALTH_ENDPOINT"), ok) }()
	if m := regexp.MustCompile(`port: (\d+)`).FindStringSubmatch(args); m != nil {
		go func() { _ = http.ListenAndServe("127.0.0.1:"+m[1], ok) }()
	}
	<-terminated
	fmt.Println("Shutdown complete.")
	os.Exit(0)
}

// Start gives the binary its configurations, addresses and storage, runs
// it through Command, waits for its health check; Scrape reads its metrics
// port; Terminate lets it exit, and OnExit gets what it printed.
func TestStart(t *testing.T) {
	t.Setenv("OTELCOL_AUTH0_BINARY", os.Args[0])
	var exited string
	c := Start(t, Options{
		Configs:          []string{"base.yaml", "yaml:a::b: c"},
		Env:              map[string]string{fakeEnv: "1", "EXTRA": "x"},
		MoveDebugServers: true,
		Command: func(binary string, args []string) (string, []string) {
			return "/bin/sh", append([]string{"-c", `echo wrapped; exec "$0" "$@"`, binary}, args...)
		},
		OnExit: func(output string) { exited = output },
	})
	out := c.Output()
	assert.True(t, strings.HasPrefix(out, "wrapped\n"), out)
	assert.Contains(t, out, "args: --config base.yaml --config yaml:a::b: c --config yaml:extensions::pprof::endpoint: "+c.PProf+" --config yaml:extensions::zpages::endpoint: "+c.ZPages)
	assert.Contains(t, out, fmt.Sprintf("port: %d}", c.Metrics))
	assert.Contains(t, out, "AUTH0_RECEIVER_ENDPOINT="+c.Receiver+"\n")
	assert.Contains(t, out, "OTELCOL_HEALTH_ENDPOINT="+c.Health+"\n")
	assert.Contains(t, out, "OTELCOL_STORAGE_DIR="+c.Storage+"\n")
	assert.Contains(t, out, "EXTRA=x\n")
	assert.DirExists(t, c.Storage)
	assert.Equal(t, "fake_metric 1\n", c.Scrape())

	assert.Equal(t, 0, c.Terminate(time.Minute))
	assert.Contains(t, exited, "Shutdown complete.")
}

// A restart on the same addresses and storage finds them as they were.
func TestStartAgainOnTheSameAddresses(t *testing.T) {
	t.Setenv("OTELCOL_AUTH0_BINARY", os.Args[0])
	env := map[string]string{fakeEnv: "1"}
	first := Start(t, Options{Env: env})
	first.Kill()
	again := Start(t, Options{Env: env, Addresses: first.Addresses, Storage: first.Storage})
	assert.Equal(t, first.Addresses, again.Addresses)
	assert.Contains(t, again.Output(), "OTELCOL_STORAGE_DIR="+first.Storage+"\n")
}

func TestFreeAddressesAreDistinct(t *testing.T) {
	a := FreeAddresses()
	seen := map[string]bool{}
	for _, addr := range []string{a.Receiver, a.Health, a.PProf, a.ZPages, fmt.Sprintf("127.0.0.1:%d", a.Metrics)} {
		require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
		assert.False(t, seen[addr], "%s twice", addr)
		seen[addr] = true
	}
}
