// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

// Package e2e runs the built otelcol-auth0 binary as a platform team would:
// from otelcol-config.yaml and environment variables only. `make e2e` builds
// the binary and points OTELCOL_AUTH0_BINARY at it;
// internal/testsupport/binarytest starts and stops it.
package e2e

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
)

// repoRoot is where otelcol-config.yaml lives.
func repoRoot(t testing.TB) string { return binarytest.RepoRoot(t) }

// Collector is one running otelcol-auth0 process.
type Collector struct {
	*binarytest.Collector
	t testing.TB
	// HEC is the local HEC endpoint the collector sends to, with
	// Options.LocalHEC.
	HEC *LocalHEC
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
	// Configs are more --config values: files, or "yaml:" overlays.
	Configs []string
	// Addresses are where it listens; new free ports when zero. The same
	// ones again make a restart that clients find where they were.
	Addresses binarytest.Addresses
}

// StartCollector runs the binary with otelcol-config.yaml and the standard
// environment variables on free loopback ports, and waits until it is healthy.
func StartCollector(t testing.TB, opts Options) *Collector {
	t.Helper()
	c := &Collector{t: t}
	env := map[string]string{
		"AUTH0_RECEIVER_SECRET": Secret,
		"SPLUNK_HEC_TOKEN":      HECToken,
	}
	if opts.LocalHEC {
		c.HEC = StartHEC(t)
		env["SPLUNK_HEC_ENDPOINT"] = c.HEC.URL()
	}
	if opts.HECEndpoint != "" {
		env["SPLUNK_HEC_ENDPOINT"] = opts.HECEndpoint
	}
	maps.Copy(env, opts.Env)
	config := "otelcol-config.yaml"
	if opts.Config != "" {
		config = opts.Config
	}
	c.Collector = binarytest.Start(t, binarytest.Options{
		Configs:   append([]string{filepath.Join(repoRoot(t), config)}, opts.Configs...),
		Env:       env,
		Storage:   opts.Storage,
		Addresses: opts.Addresses,
		// Only otelcol-config.yaml has them, at fixed ports.
		MoveDebugServers: opts.Config == "",
	})
	return c
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
