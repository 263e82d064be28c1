// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/localhec"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"
)

var update = flag.Bool("update", false, "rewrite the golden HEC events and the type lookup from what the pipeline and the code produce")

// Body formats of the signup processor, each with its golden HEC events.
var bodyFormats = []string{signupprocessor.BodyFormatRule, signupprocessor.BodyFormatAuth0}

func goldenPath(format string) string {
	return filepath.Join("testdata", "hec-events-"+format+".jsonl")
}

const (
	secret   = "splunk-app-test-secret"
	hecToken = "00000000-0000-0000-0000-splunkapptest"
)

// TestGoldenHECEvents runs the real pipeline in process (the auth0login
// receiver, the signup processor in each body format, the contrib transform
// processor that chooses the index-time fields and the contrib splunk_hec
// exporter, both configured as otelcol-config.yaml configures them) into
// the local HEC endpoint, posts Auth0 log stream batches and Action
// payloads, and compares what the endpoint wrote (one HEC event per line,
// as Splunk receives it) with testdata/hec-events-<format>.jsonl. The
// app's tests read those files: `go test ./splunk -update` rewrites them
// when the pipeline's output changes, and the diff shows what changed for
// Splunk.
func TestGoldenHECEvents(t *testing.T) {
	for _, format := range bodyFormats {
		t.Run(format, func(t *testing.T) {
			got := runPipeline(t, format)
			path := goldenPath(format)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run `go test ./splunk -update` to create it")
			assert.Equal(t, string(want), string(got), "the HEC events differ from %s: run `go test ./splunk -update` and review the diff", path)
		})
	}
}

// goldenInputs are posted in order: the receiver's sample batch (a signup,
// its first login, a failed login, a refresh-token exchange, an unknown
// type), more of a tenant's day (another application's signup and login,
// logins with Adaptive MFA risk assessments, failures of several types, a
// blocked account) and two Action payloads (a returning user, a new social
// user).
func goldenInputs(t *testing.T) []struct{ path, body string } {
	more, err := os.ReadFile(filepath.Join("testdata", "logstream-more.jsonl"))
	require.NoError(t, err)
	newUser := auth0test.ActionEvent{
		EventID: "0d6e5a7c-3b1f-4e2a-9c8d-7f6e5d4c3b2a", UserID: "google-oauth2|109876543210987654321",
		UserName: "kai@example.com", ClientName: "Mobile App", IP: "192.0.2.80", AppMetadata: map[string]any{}, LoginsCount: 1,
	}
	return []struct{ path, body string }{
		{"/auth0/logs", string(auth0test.Sample(auth0test.LogStreamLines))},
		{"/auth0/logs", string(more)},
		{"/auth0/actions", string(auth0test.Sample(auth0test.Action))},
		{"/auth0/actions", string(newUser.JSON())},
	}
}

// shippedConfig is the collector configuration the pipeline is taken from.
const shippedConfig = "../otelcol-config.yaml"

// runPipeline runs the pipeline in the body format, with the index-time
// fields of shippedConfig plus optIn, and returns what the HEC endpoint
// wrote.
func runPipeline(t *testing.T, format string, optIn ...string) []byte {
	t.Helper()
	return runPipelineOn(t, format, goldenInputs(t), optIn...)
}

// runPipelineOn posts inputs (path and body) to the pipeline in the body
// format and returns what the HEC endpoint wrote.
func runPipelineOn(t *testing.T, format string, inputs []struct{ path, body string }, optIn ...string) []byte {
	t.Helper()
	ctx := context.Background()

	// The endpoint writes once per request under its own lock, and the file
	// is read only after the last request was answered.
	var out bytes.Buffer
	hec, err := localhec.New(hecToken, &out, localhec.Options{})
	require.NoError(t, err)
	hecServer := httptest.NewServer(hec)
	defer hecServer.Close()

	expFactory := splunkhecexporter.NewFactory()
	expCfg := expFactory.CreateDefaultConfig().(*splunkhecexporter.Config)
	expCfg.ClientConfig.Endpoint = hecServer.URL + localhec.PathCollector
	expCfg.Token = configopaque.String(hecToken)
	expCfg.Source, expCfg.SourceType = "auth0", "auth0_activity"
	// Delivered before the receiver answers, so the file is complete when
	// the last post returns; batching does not change the events.
	expCfg.QueueSettings = configoptional.None[exporterhelper.QueueBatchConfig]()
	exp, err := expFactory.CreateLogs(ctx, exportertest.NewNopSettings(expFactory.Type()), expCfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()

	fieldsFactory := transformprocessor.NewFactory()
	fieldsCfg := fieldsFactory.CreateDefaultConfig()
	shipped, err := hecfields.Config(shippedConfig, optIn...)
	require.NoError(t, err)
	require.NoError(t, confmap.NewFromStringMap(shipped).Unmarshal(fieldsCfg))
	require.NoError(t, confmap.Validate(fieldsCfg))
	fields, err := fieldsFactory.CreateLogs(ctx, processortest.NewNopSettings(fieldsFactory.Type()), fieldsCfg, exp)
	require.NoError(t, err)
	require.NoError(t, fields.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, fields.Shutdown(ctx)) }()

	procFactory := signupprocessor.NewFactory()
	procCfg := procFactory.CreateDefaultConfig().(*signupprocessor.Config)
	procCfg.BodyFormat = format
	proc, err := procFactory.CreateLogs(ctx, processortest.NewNopSettings(procFactory.Type()), procCfg, fields)
	require.NoError(t, err)
	require.NoError(t, proc.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(ctx)) }()

	rcvFactory := auth0loginreceiver.NewFactory()
	rcvCfg := rcvFactory.CreateDefaultConfig().(*auth0loginreceiver.Config)
	rcvCfg.ServerConfig.NetAddr.Endpoint = freeAddr(t)
	rcvCfg.Secret = configopaque.String(secret)
	rcv, err := rcvFactory.CreateLogs(ctx, receivertest.NewNopSettings(rcvFactory.Type()), rcvCfg, proc)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, rcv.Shutdown(ctx)) }()

	for _, in := range inputs {
		req, err := http.NewRequest(http.MethodPost, "http://"+rcvCfg.ServerConfig.NetAddr.Endpoint+in.path, bytes.NewReader([]byte(in.body)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", in.path, body)
	}
	return bytes.Clone(out.Bytes())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// hecEvent is one line of a golden file.
type hecEvent struct {
	Time       float64        `json:"time"`
	Host       string         `json:"host"`
	Source     string         `json:"source"`
	SourceType string         `json:"sourcetype"`
	Index      string         `json:"index"`
	Event      any            `json:"event"`
	Fields     map[string]any `json:"fields"`
}

// goldenEvents reads the golden HEC events of every body format.
func goldenEvents(t *testing.T) map[string][]hecEvent {
	t.Helper()
	return readGolden(t, goldenPath)
}

// readGolden reads the HEC events of every body format from path(format).
func readGolden(t *testing.T, path func(string) string) map[string][]hecEvent {
	t.Helper()
	out := map[string][]hecEvent{}
	for _, format := range bodyFormats {
		f, err := os.Open(path(format))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev hecEvent
			require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
			out[format] = append(out[format], ev)
		}
		require.NoError(t, sc.Err())
		f.Close()
		require.NotEmpty(t, out[format])
	}
	return out
}
