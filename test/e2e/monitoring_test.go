// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

// Names that are never in a collector's scrape: Prometheus makes them.
var prometheusMade = []string{"up"}

// Names that the test cannot make appear, and why; each must still be in
// its component's documentation.md (generated from metadata.yaml), so a
// renamed metric fails here.
var notExercised = map[string]string{
	"otelcol_journal_storage_batches_failed":          "extension/journalstorage/documentation.md: a journal write must fail (a full disk); extension/journalstorage/full_test.go makes one",
	"otelcol_receiver_auth0login_poll_retention_gaps": "receiver/auth0loginreceiver/documentation.md: the checkpoint must be older than Auth0's retention, which the fake tenant's process does not expire",
}

// TestMonitoringMetricNames runs the built binary the ways the alerts and
// the dashboard of deploy/kubernetes/monitoring watch it (push with Redis
// and the Management API, a bad secret, a duplicate, Splunk refusing for
// good, a drain with Splunk down, pull mode), scrapes :8888 each time, and
// checks that every metric an alert or a panel queries is there.
func TestMonitoringMetricNames(t *testing.T) {
	used := queriedNames(t)
	require.NotEmpty(t, used)
	exposed := map[string]bool{}
	// The label names of each sample name, over every scrape: as a classic
	// scraper sees them, and as one that accepts UTF-8 names (Prometheus 3).
	classic, utf8 := metricLabels{}, metricLabels{}
	scrape := func(c *Collector) {
		text := c.Scrape()
		for name := range sampleNames(text) {
			exposed[name] = true
		}
		classic.add(text)
		utf8.add(scrapeUTF8(t, c))
	}

	fake := StartFakeAuth0(t)
	fake.AddUser("auth0|mon-new", map[string]any{})
	fake.AddUser("auth0|mon-returning", map[string]any{"signedUp": true})
	redis := redistest.Start(t)
	hec := startMonitoringHEC(t)
	env := fake.Env()
	env["REDIS_ENDPOINT"] = redis.Addr()
	env["REDIS_TLS_INSECURE"] = "true"
	env["OTELCOL_DRAIN_TIMEOUT"] = "4s"
	c := StartCollector(t, Options{HECEndpoint: hec.url, Env: env, Configs: []string{filepath.Join(repoRoot(t), "config", "redis.yaml")}})

	batch := auth0test.Lines(
		auth0test.Event{LogID: "mon-1", Type: "ss", UserID: "auth0|mon-new"},
		auth0test.Event{LogID: "mon-2", Type: "s", UserID: "auth0|mon-new", LoginsCount: 1},
		auth0test.Event{LogID: "mon-3", Type: "s", UserID: "auth0|mon-returning"},
	)
	status, body := c.Post("/auth0/logs", append(batch, []byte("{not json\n")...))
	require.Equal(t, http.StatusOK, status, body)
	status, body = c.Post("/auth0/logs", batch) // Auth0 redelivers: duplicates
	require.Equal(t, http.StatusOK, status, body)
	scrape(c)
	req, err := http.NewRequest(http.MethodPost, "http://"+c.Receiver+"/auth0/logs", strings.NewReader(string(batch)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer not-the-secret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Eventually(t, func() bool { return fake.Calls(http.MethodPatch)["auth0|mon-new"] == 1 }, 30*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool { return sampleNames(c.Scrape())["otelcol_exporter_sent_log_records"] }, 30*time.Second, 200*time.Millisecond)

	// Splunk refuses for good (a 403: a wrong token): the events are dropped
	// and counted.
	hec.status.Store(http.StatusForbidden)
	status, body = c.Post("/auth0/logs", auth0test.Lines(auth0test.Event{LogID: "mon-4", Type: "s", UserID: "auth0|mon-returning"}))
	require.Equal(t, http.StatusOK, status, body)
	require.Eventually(t, func() bool { return sampleNames(c.Scrape())["otelcol_exporter_send_failed_log_records"] }, 30*time.Second, 200*time.Millisecond)
	scrape(c)

	// Splunk down (503, retried) at SIGTERM: the drain waits for the queue,
	// and its gauge is scraped meanwhile.
	hec.status.Store(http.StatusServiceUnavailable)
	status, body = c.Post("/auth0/logs", auth0test.Lines(auth0test.Event{LogID: "mon-5", Type: "s", UserID: "auth0|mon-returning"}))
	require.Equal(t, http.StatusOK, status, body)
	exited := make(chan int, 1)
	go func() { exited <- c.Terminate(60 * time.Second) }()
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) && !exposed["otelcol_receiver_auth0login_drain_items"] {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Metrics)); err == nil {
			var b strings.Builder
			_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
			resp.Body.Close()
			for name := range sampleNames(b.String()) {
				exposed[name] = true
			}
			classic.add(b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, 0, <-exited)

	// Pull mode: the poller's metrics.
	fake.AddLogs(auth0test.Event{LogID: "900202611200813" + strings.Repeat("0", 40) + "1", UserID: "auth0|mon-returning", LoginsCount: 2}.Data())
	pullEnv := fake.Env()
	pullEnv["AUTH0_POLL_START"] = "oldest"
	pullEnv["AUTH0_POLL_INTERVAL"] = "1s"
	hec.status.Store(http.StatusOK)
	p := StartCollector(t, Options{HECEndpoint: hec.url, Env: pullEnv, Configs: []string{filepath.Join(repoRoot(t), "config", "pull.yaml")}})
	require.Eventually(t, func() bool { return sampleNames(p.Scrape())["otelcol_receiver_auth0login_poll_lag"] }, 30*time.Second, 200*time.Millisecond)
	scrape(p)
	require.Equal(t, 0, p.Terminate(60*time.Second))

	var missing []string
	for _, name := range used {
		if exposed[name] || slices.Contains(prometheusMade, name) {
			continue
		}
		if why, ok := notExercised[name]; ok {
			doc, err := os.ReadFile(filepath.Join(repoRoot(t), strings.SplitN(why, ":", 2)[0]))
			require.NoError(t, err)
			assert.Contains(t, string(doc), "### "+name, "%s: not exercised here, and not in %s either", name, strings.SplitN(why, ":", 2)[0])
			continue
		}
		missing = append(missing, name)
	}
	assert.Empty(t, missing, "metrics an alert or a panel of deploy/kubernetes/monitoring queries, which the binary does not expose")

	// Every label an expression groups by or matches on is a label of one
	// of the metrics it queries, whether the scraper accepts UTF-8 names
	// or not.
	checked := 0
	for _, e := range queriedExprs(t) {
		var metrics []string
		for _, m := range promQLMetricNames(e) {
			if exposed[m] {
				metrics = append(metrics, m)
			}
		}
		if len(metrics) == 0 {
			continue // made by Prometheus, or not exercised here (above)
		}
		for _, l := range queriedLabels([]string{e}) {
			for _, scraped := range []struct {
				how    string
				labels metricLabels
			}{{"a classic", classic}, {"a UTF-8", utf8}} {
				has := slices.ContainsFunc(metrics, func(m string) bool { return scraped.labels[m][l] })
				assert.True(t, has, "%s scrape: label %q is on none of %v, which the query %q uses", scraped.how, l, metrics, e)
				checked++
			}
		}
	}
	require.Positive(t, checked)

	// A label of the collector's that the Operator also sets on every
	// series reaches the queries only if the PodMonitors honor it; the
	// labels that name the target must stay Prometheus's.
	honored := podMonitorsHonorLabels(t)
	for _, scraped := range []metricLabels{classic, utf8} {
		all := scraped.all()
		for _, l := range targetLabels {
			assert.False(t, all[l], "the collector exposes %q, a label that names the scraped target", l)
		}
		for _, l := range operatorLabels {
			if all[l] {
				assert.True(t, honored, "the collector exposes %q, which the Prometheus Operator sets too: without honorLabels: true on every PodMonitor endpoint, queries see the Operator's value and the collector's becomes exported_%s", l, l)
			}
		}
	}
	t.Logf("checked %d metric names against the binary's scrape: %s", len(used), strings.Join(used, " "))
}

// monitoringHEC answers every HEC request with status.
type monitoringHEC struct {
	status atomic.Int64
	url    string
}

func startMonitoringHEC(t *testing.T) *monitoringHEC {
	t.Helper()
	h := &monitoringHEC{}
	h.status.Store(http.StatusOK)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		status := int(h.status.Load())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprint(w, `{"text":"Success","code":0}`)
		} else {
			fmt.Fprintf(w, `{"text":"refused","code":%d}`, status)
		}
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL + "/services/collector"
	return h
}

// sampleNames are the names of the samples in a Prometheus text exposition
// (a histogram's _bucket, _sum and _count, as PromQL names them).
func sampleNames(exposition string) map[string]bool {
	names := map[string]bool{}
	for line := range strings.SplitSeq(exposition, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// queriedNames are the metric names in every alert expression of
// prometheusrule.yaml and every query of grafana-dashboard.json.
func queriedNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, e := range queriedExprs(t) {
		for _, n := range promQLMetricNames(e) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

// queriedExprs are every alert expression of prometheusrule.yaml, every
// query of grafana-dashboard.json and the series its variables list.
func queriedExprs(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "kubernetes", "monitoring")
	var rules struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `yaml:"alert"`
					Expr  string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	readYAML(t, filepath.Join(dir, "prometheusrule.yaml"), &rules)
	var exprs []string
	for _, g := range rules.Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "grafana-dashboard.json"))
	require.NoError(t, err)
	var dashboard struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &dashboard))
	for _, p := range dashboard.Panels {
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([^,]+),`)
	for _, v := range dashboard.Templating.List {
		if m := labelValues.FindStringSubmatch(v.Definition); m != nil {
			exprs = append(exprs, m[1])
		}
	}
	return exprs
}

// targetLabels are the labels Prometheus (and the Prometheus Operator's
// PodMonitor) adds to name every series' target: not the collector's to
// expose.
var targetLabels = []string{"job", "instance", "namespace", "pod", "container", "service"}

// operatorLabels are the other labels the Prometheus Operator's PodMonitor
// sets on every series: "endpoint", the port's name.
var operatorLabels = []string{"endpoint"}

// readYAML decodes the YAML file at path into into.
func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, into), path)
}

// podMonitorsHonorLabels tells whether every metrics endpoint of the
// shipped PodMonitors (the manifest's and the Helm chart's values) sets
// honorLabels: true.
func podMonitorsHonorLabels(t *testing.T) bool {
	t.Helper()
	type endpoint struct {
		HonorLabels bool `yaml:"honorLabels"`
	}
	var pm struct {
		Spec struct {
			Endpoints []endpoint `yaml:"podMetricsEndpoints"`
		} `yaml:"spec"`
	}
	readYAML(t, filepath.Join(repoRoot(t), "deploy", "kubernetes", "monitoring", "podmonitor.yaml"), &pm)
	var values struct {
		PodMonitor struct {
			Endpoints []endpoint `yaml:"metricsEndpoints"`
		} `yaml:"podMonitor"`
	}
	readYAML(t, filepath.Join(repoRoot(t), "deploy", "helm", "values.yaml"), &values)
	endpoints := slices.Concat(pm.Spec.Endpoints, values.PodMonitor.Endpoints)
	require.Len(t, endpoints, 2, "one metrics endpoint in each PodMonitor")
	for _, e := range endpoints {
		if !e.HonorLabels {
			return false
		}
	}
	return true
}

var (
	promQLGroupingLabels = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	promQLMatcherLabel   = regexp.MustCompile(`(?:^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	expositionLabel      = regexp.MustCompile(`[{,]\s*(?:"((?:[^"\\]|\\.)*)"|([a-zA-Z_][a-zA-Z0-9_]*))\s*=\s*"`)
)

// queriedLabels are the label names the expressions group by or match on,
// but the ones Prometheus adds.
func queriedLabels(exprs []string) []string {
	var labels []string
	add := func(l string) {
		l = strings.TrimSpace(l)
		if l != "" && !slices.Contains(targetLabels, l) && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	for _, e := range exprs {
		e = promQLStrings.ReplaceAllString(e, `""`)
		for _, m := range promQLGroupingLabels.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(m[1], ",") {
				add(l)
			}
		}
		for _, sel := range promQLMatchers.FindAllString(e, -1) {
			if !strings.HasPrefix(sel, "{") {
				continue // a range
			}
			for _, m := range promQLMatcherLabel.FindAllStringSubmatch(strings.Trim(sel, "{}"), -1) {
				add(m[1])
			}
		}
	}
	slices.Sort(labels)
	return labels
}

// metricLabels are the label names of each sample name of one or more
// Prometheus text expositions, quoted ones (UTF-8 names) unquoted.
type metricLabels map[string]map[string]bool

func (ml metricLabels) add(exposition string) {
	for line := range strings.SplitSeq(exposition, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, "{ ")
		if i <= 0 {
			continue
		}
		name := line[:i]
		if ml[name] == nil {
			ml[name] = map[string]bool{}
		}
		for _, m := range expositionLabel.FindAllStringSubmatch(line[i:], -1) {
			ml[name][m[1]+m[2]] = true
		}
	}
}

// all are the label names of every sample.
func (ml metricLabels) all() map[string]bool {
	all := map[string]bool{}
	for _, labels := range ml {
		maps.Copy(all, labels)
	}
	return all
}

// scrapeUTF8 scrapes as Prometheus 3 does by default: it accepts UTF-8
// names, so the exporter escapes none of them.
func scrapeUTF8(t *testing.T, c *Collector) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Metrics), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain;version=1.0.0;escaping=allow-utf-8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	require.NoError(t, err)
	return b.String()
}

var (
	promQLStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promQLMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promQLGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promQLNumbers  = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b`)
	promQLIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promQLKeywords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring", "group_left", "group_right"}
)

// promQLMetricNames: the identifiers of a PromQL expression that are not
// functions, keywords, label names or values, numbers or durations. A
// small tokenizer, enough for the expressions of this repository.
func promQLMetricNames(expr string) []string {
	e := promQLStrings.ReplaceAllString(expr, " ")
	e = promQLMatchers.ReplaceAllString(e, " ")
	e = promQLGrouping.ReplaceAllString(e, " ")
	e = promQLNumbers.ReplaceAllString(e, " ")
	var names []string
	for _, m := range promQLIdent.FindAllStringSubmatch(e, -1) {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || slices.Contains(promQLKeywords, name) {
			continue // a function call, or a keyword
		}
		names = append(names, name)
	}
	return names
}
