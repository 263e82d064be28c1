// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Command bench runs the same Auth0 load through three collector pipelines
// on this machine, one after the other, and prints one table:
//
//   - ours: auth0login -> signup -> splunk_hec, otelcol-config.yaml as shipped
//     (gzip, persistent queue on journal_storage with fsync, the lean
//     index-time fields), the Management API a local fake;
//   - webhookevent + transform: the generic alternative, contrib components
//     only (bench/webhookevent-transform.yaml, queue on file_storage);
//   - hec passthrough: splunk_hec receiver -> splunk_hec exporter, the same
//     queue as ours (bench/hec-passthrough.yaml);
//   - reference rows that swap one part at a time (every attribute an
//     index-time field, queue storage, in memory).
//
// Every pipeline sends the same HEC events for the same load (the Rule's
// object for SignUps and Logins, the lean index-time fields), plus the
// event id as a field (loadtest.IDField) so that the sink can check each
// one; the reference row with every attribute a field sends what
// otelcol-config.yaml sent before the lean default.
//
// For each: events per CPU-second of the collector process (user+system
// time from /proc, from the first request until the HEC sink received every
// acknowledged event), CPU seconds per million events, HEC bytes per event
// (decompressed and gzip), acknowledgement latency and peak RSS at a fixed
// rate, Management API calls per 10k events, and events lost (acknowledged
// but never received). `make bench` runs it.
//
// With -baseline DIR (a checkout of another version with its binary built in
// DIR/_build), every pipeline also runs on that version, with that tree's
// configuration files, alternating with the current one within each round, and
// a second table gives current / baseline per round.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

type pipeline struct {
	name   string
	config string
	format loadtest.Format
	path   string
	auth0  bool
	// overlay are extra --config sources merged over config.
	overlay []string
	// reference rows explain the others; the targets are not read from them.
	reference bool
	// redis shares the signup processor's claims through a redis-server
	// the run starts (config/redis.yaml's settings), whose own CPU time is
	// reported apart.
	redis bool
}

// everyAttribute sends every attribute as an index-time field, as
// otelcol-config.yaml did before the lean default: the Splunk pipeline
// without its field-pruning step.
var everyAttribute = []string{"yaml:service::pipelines::logs/splunk::processors: []"}

// inMemoryQueue keeps the exporter's sending queue in memory: what the
// persistent queue costs is the difference to the row without it.
var inMemoryQueue = []string{"yaml:exporters::splunk_hec::sending_queue::storage: null"}

// journalQueue puts the webhook pipeline's queue where ours is, so that
// the difference left is the receiving end.
var journalQueue = []string{
	"yaml:extensions::journal_storage: {directory: '${env:OTELCOL_STORAGE_DIR}', create_directory: true}",
	"yaml:exporters::splunk_hec::sending_queue::storage: journal_storage",
	"yaml:service::extensions: [health_check, journal_storage, pprof]",
}

// fileStorageQueue puts our queue on contrib's file_storage with fsync,
// tuned as its README allows (compaction at start and once drained).
var fileStorageQueue = []string{
	"yaml:extensions::file_storage: {directory: '${env:OTELCOL_STORAGE_DIR}', create_directory: true, fsync: true, " +
		"compaction: {directory: '${env:OTELCOL_STORAGE_DIR}', on_start: true, on_rebound: true}}",
	"yaml:exporters::splunk_hec::sending_queue::storage: file_storage",
	"yaml:service::extensions: [health_check, journal_storage, file_storage, file_storage/signup, pprof, zpages]",
}

var pipelines = []pipeline{
	{name: "ours", config: "otelcol-config.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", auth0: true},
	{name: "ours, Redis claims", config: "otelcol-config.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", auth0: true, redis: true},
	{name: "webhookevent+transform", config: "bench/webhookevent-transform.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs"},
	{name: "hec-passthrough", config: "bench/hec-passthrough.yaml", format: loadtest.FormatHEC, path: "/services/collector"},
	{name: "ours, every attribute a field", config: "otelcol-config.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", auth0: true, overlay: everyAttribute, reference: true},
	{name: "webhookevent+transform, journal queue", config: "bench/webhookevent-transform.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", overlay: journalQueue, reference: true},
	{name: "ours, file_storage queue", config: "otelcol-config.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", auth0: true, overlay: fileStorageQueue, reference: true},
	{name: "ours, in-memory queue", config: "otelcol-config.yaml", format: loadtest.FormatAuth0, path: "/auth0/logs", auth0: true, overlay: inMemoryQueue, reference: true},
	{name: "hec-passthrough, in-memory queue", config: "bench/hec-passthrough.yaml", format: loadtest.FormatHEC, path: "/services/collector", overlay: inMemoryQueue, reference: true},
}

type options struct {
	binary      string
	baseline    string
	duration    time.Duration
	rate        float64
	batch       int
	concurrency int
	gzip        bool
	only        string
	reference   bool
	rounds      int
	profileDir  string
	jsonOut     string
}

// Result is one pipeline's figures.
type Result struct {
	Pipeline string `json:"pipeline"`
	// Version is "baseline" for a run of the -baseline tree, empty otherwise.
	Version string `json:"version,omitempty"`
	Round   int    `json:"round"`
	// MinEventsPerCPUSecond and MaxEventsPerCPUSecond span the rounds.
	MinEventsPerCPUSecond float64 `json:"min_events_per_cpu_second,omitempty"`
	MaxEventsPerCPUSecond float64 `json:"max_events_per_cpu_second,omitempty"`
	ThroughputEvents      int64   `json:"throughput_events"`
	AcceptedPerSecond     float64 `json:"accepted_per_second"`
	CPUSeconds            float64 `json:"cpu_seconds"`
	EventsPerCPUSecond    float64 `json:"events_per_cpu_second"`
	CPUSecPerMillion      float64 `json:"cpu_seconds_per_million"`
	FixedRate             float64 `json:"fixed_rate"`
	FixedRateAccepted     float64 `json:"fixed_rate_accepted_per_second"`
	P50ms                 float64 `json:"p50_ms"`
	P99ms                 float64 `json:"p99_ms"`
	P999ms                float64 `json:"p999_ms"`
	PeakRSSMiB            float64 `json:"peak_rss_mib"`
	// HECBytesPerEvent and GzipBytesPerEvent are what the sink received in
	// the throughput phase, per event: the HEC JSON and its gzip.
	HECBytesPerEvent  float64 `json:"hec_bytes_per_event"`
	GzipBytesPerEvent float64 `json:"gzip_bytes_per_event"`
	APICallsPer10k    float64 `json:"api_calls_per_10k"`
	Lookups           int     `json:"lookups"`
	Updates           int     `json:"updates"`
	NewUsers          int64   `json:"new_users"`
	Lost              int     `json:"lost"`
	Duplicates        int     `json:"duplicates"`
	Refused           int64   `json:"refused_batches"`
	// RedisCPUSecPerMillion is the redis-server's CPU time per million
	// events of the throughput phase, for the rows with Redis claims.
	RedisCPUSecPerMillion float64 `json:"redis_cpu_seconds_per_million,omitempty"`
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "_build/otelcol-auth0", "the built collector")
	flag.StringVar(&o.baseline, "baseline", "", "a checkout of the version to compare with, its binary built in _build/otelcol-auth0: every pipeline runs on both, alternating, each with its own tree's configuration files")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of each measured phase")
	flag.Float64Var(&o.rate, "rate", 10000, "events per second of the fixed-rate phase")
	flag.IntVar(&o.batch, "batch", 100, "events per request")
	flag.IntVar(&o.concurrency, "concurrency", 8, "requests in flight in the throughput phase")
	flag.BoolVar(&o.gzip, "gzip", true, "gzip the requests")
	flag.StringVar(&o.only, "only", "", "run only the pipelines whose name contains this, or is it when it starts with = (several separated by |)")
	flag.BoolVar(&o.reference, "reference", true, "also run the reference rows (the pipelines with one part swapped: the queue's storage, or the queue in memory)")
	flag.IntVar(&o.rounds, "rounds", 1, "run every pipeline this many times, interleaved, and report each one's median run")
	flag.StringVar(&o.profileDir, "profile", "", "write CPU and allocation profiles of each pipeline's throughput phase here")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()

	var selected []pipeline
	for _, p := range pipelines {
		if o.only != "" && !slices.ContainsFunc(strings.Split(o.only, "|"), func(s string) bool {
			if exact, ok := strings.CutPrefix(s, "="); ok {
				return p.name == exact
			}
			return strings.Contains(p.name, s)
		}) || p.reference && !o.reference {
			continue
		}
		selected = append(selected, p)
	}
	// The versions each pipeline runs on: the current one, and the baseline
	// when there is one.
	versions := []version{{binary: o.binary}}
	if o.baseline != "" {
		versions = append(versions, version{name: "baseline", binary: filepath.Join(o.baseline, "_build", "otelcol-auth0"), root: o.baseline})
		if _, err := os.Stat(versions[1].binary); err != nil {
			fmt.Fprintf(os.Stderr, "bench: -baseline: %v\n", err)
			os.Exit(2)
		}
	}
	// Rounds interleave the pipelines, so that a slow minute of a shared
	// machine falls on all of them rather than on one; with a baseline, each
	// pipeline runs on both versions back to back, the order swapped every
	// round, so that neither always has the warmer or the cooler minute.
	runs := make([][][]Result, len(selected))
	for i := range runs {
		runs[i] = make([][]Result, len(versions))
	}
	for round := 1; round <= max(o.rounds, 1); round++ {
		for i, p := range selected {
			for k := range versions {
				v := k
				if round%2 == 0 {
					v = len(versions) - 1 - k
				}
				label := p.name
				if versions[v].name != "" {
					label += " (" + versions[v].name + ")"
				}
				fmt.Fprintf(os.Stderr, "== %s (round %d of %d)\n", label, round, max(o.rounds, 1))
				r, err := run(o, p, versions[v])
				if err != nil {
					fmt.Fprintf(os.Stderr, "bench: %s: %v\n", label, err)
					os.Exit(1)
				}
				r.Round = round
				r.Version = versions[v].name
				runs[i][v] = append(runs[i][v], r)
			}
		}
	}
	var results, baselines []Result
	for _, rs := range runs {
		results = append(results, median(rs[0]))
		if len(rs) > 1 {
			baselines = append(baselines, median(rs[1]))
		}
	}
	printTable(os.Stdout, o, results)
	if len(baselines) > 0 {
		fmt.Fprintf(os.Stdout, "\nThe baseline (%s), the same pipelines in the same rounds:\n\n", o.baseline)
		printTable(os.Stdout, o, baselines)
		printComparison(os.Stdout, runs)
	}
	if o.jsonOut != "" {
		// One list of runs per pipeline, as without a baseline; a baseline's
		// runs follow the current ones, told apart by their version field.
		perPipeline := make([][]Result, len(runs))
		for i, rs := range runs {
			perPipeline[i] = slices.Concat(rs...)
		}
		b, _ := json.MarshalIndent(perPipeline, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// version is a binary and the tree whose configuration files it runs with.
type version struct {
	name   string // empty for the current version
	binary string
	root   string // configuration paths are relative to it; empty: the working directory
}

// printComparison gives current / baseline for each pipeline: the events per
// CPU-second of the two runs of each round (which ran back to back), their
// median, and the medians' p99 latency and peak RSS.
func printComparison(w io.Writer, runs [][][]Result) {
	fmt.Fprintln(w, "\nCurrent / baseline, each round's two runs back to back:")
	fmt.Fprintln(w, "\n| pipeline | events per CPU-second, median of the rounds' ratios | per round | p99 ms (current / baseline, medians) | peak RSS MiB (current / baseline, medians) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, rs := range runs {
		current, baseline := rs[0], rs[1]
		var ratios []float64
		var perRound []string
		for n := range min(len(current), len(baseline)) {
			r := current[n].EventsPerCPUSecond / baseline[n].EventsPerCPUSecond
			ratios = append(ratios, r)
			perRound = append(perRound, fmt.Sprintf("%.2fx", r))
		}
		slices.Sort(ratios)
		mc, mb := median(current), median(baseline)
		fmt.Fprintf(w, "| %s | **%.2fx** | %s | %.1f / %.1f | %.0f / %.0f |\n",
			mc.Pipeline, ratios[(len(ratios)-1)/2], strings.Join(perRound, ", "), mc.P99ms, mb.P99ms, mc.PeakRSSMiB, mb.PeakRSSMiB)
	}
}

func run(o options, p pipeline, v version) (Result, error) {
	res := Result{Pipeline: p.name, FixedRate: o.rate}
	sink := loadtest.NewSink()
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	sinkSrv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sinkSrv.Serve(sinkLn) }()
	defer sinkSrv.Close()

	runID := fmt.Sprintf("b%d", time.Now().UnixNano()%1e9)
	gen := loadtest.NewGenerator(runID)
	const secret = "bench-receiver-secret"
	storage, err := os.MkdirTemp("", "otelcol-auth0-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(storage)

	receiver := fmt.Sprintf("127.0.0.1:%d", childproc.FreePort())
	health := fmt.Sprintf("127.0.0.1:%d", childproc.FreePort())
	metricsPort := childproc.FreePort()
	pprofAddr := fmt.Sprintf("127.0.0.1:%d", childproc.FreePort())
	env := map[string]string{
		"AUTH0_RECEIVER_ENDPOINT": receiver,
		"AUTH0_RECEIVER_SECRET":   secret,
		"SPLUNK_HEC_ENDPOINT":     "http://" + sinkLn.Addr().String() + "/services/collector",
		"SPLUNK_HEC_TOKEN":        "bench-hec-token",
		"OTELCOL_STORAGE_DIR":     storage,
		"OTELCOL_HEALTH_ENDPOINT": health,
	}
	args := []string{
		"--config", filepath.Join(v.root, p.config),
		"--config", fmt.Sprintf("yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}}]", metricsPort),
	}
	if p.config == "otelcol-config.yaml" {
		ids, err := hecfields.Overlay(p.config, loadtest.IDField)
		if err != nil {
			return res, err
		}
		args = append(args, "--config", ids)
	}
	for _, overlay := range p.overlay {
		args = append(args, "--config", overlay)
	}

	var fake *fakeauth0.Server
	if p.auth0 {
		const domain = "bench.eu.auth0.com"
		fake = fakeauth0.New("bench-client", "bench-client-secret", "https://"+domain+"/api/v2/")
		fake.SetAutoCreate(true)
		for n := range gen.ReturningUsers {
			fake.AddUser(gen.ReturningUserID(n), map[string]any{"signedUp": true})
		}
		fakeSrv := httptest.NewServer(fake)
		defer fakeSrv.Close()
		env["AUTH0_DOMAIN"], env["AUTH0_CLIENT_ID"], env["AUTH0_CLIENT_SECRET"], env["AUTH0_MANAGEMENT_URL"] = domain, "bench-client", "bench-client-secret", fakeSrv.URL
		args = append(args, "--config", fmt.Sprintf("yaml:extensions::zpages::endpoint: 127.0.0.1:%d", childproc.FreePort()))
	}
	args = append(args, "--config", "yaml:extensions::pprof::endpoint: "+pprofAddr)
	var redisPid int
	if p.redis {
		addr, pid, stop, err := startRedis(storage)
		if err != nil {
			return res, err
		}
		defer stop()
		redisPid = pid
		env["REDIS_ENDPOINT"] = addr
		args = append(args, "--config", redisOverlay)
	}

	proc, err := childproc.Start(v.binary, args, env)
	if err != nil {
		return res, err
	}
	defer func() {
		if code, err := proc.Stop(syscall.SIGTERM, time.Minute); err != nil || code != 0 {
			fmt.Fprintf(os.Stderr, "bench: %s exited with %d (%v)\n", p.name, code, err)
		}
	}()
	if err := proc.WaitHTTP("http://"+health+"/", 30*time.Second); err != nil {
		return res, err
	}

	sender := loadtest.NewSender("http://"+receiver+p.path, "Bearer "+secret)
	if p.format == loadtest.FormatHEC {
		sender.Authorization = "Splunk " + secret
	}
	sender.Acked = loadtest.NewIDSet()
	ctx := context.Background()

	// Warm-up: connections, caches, the returning users becoming known.
	sender.Run(ctx, loadtest.Load{Generator: gen, BatchSize: o.batch, Format: p.format, Gzip: o.gzip, EventsPerSecond: 2000, Duration: 3 * time.Second})
	if err := waitDelivered(sink, sender.Acked, time.Minute); err != nil {
		return res, err
	}
	apiBefore := 0
	if fake != nil {
		apiBefore = len(fake.Requests("", "/api/v2/"))
	}
	newUsersBefore := newUsers(gen)

	// Fixed rate first, on a process that has seen only the warm-up: latency
	// and memory under a steady 10k events/s.
	if err := childproc.ResetPeak(proc.Pid()); err != nil {
		return res, err
	}
	fr := sender.Run(ctx, loadtest.Load{Generator: gen, BatchSize: o.batch, Format: p.format, Gzip: o.gzip, EventsPerSecond: o.rate, Duration: o.duration})
	if err := waitDelivered(sink, sender.Acked, 2*time.Minute); err != nil {
		return res, err
	}
	_, peak, err := childproc.Memory(proc.Pid())
	if err != nil {
		return res, err
	}
	res.FixedRateAccepted = fr.AcceptedPerSecond()
	res.P50ms = ms(fr.Percentile(50))
	res.P99ms = ms(fr.Percentile(99))
	res.P999ms = ms(fr.Percentile(99.9))
	res.PeakRSSMiB = float64(peak) / (1 << 20)
	res.Refused += sumRefused(fr)

	// Throughput: as fast as acknowledged, CPU counted until Splunk has it all.
	cpu0, err := childproc.CPUTime(proc.Pid())
	if err != nil {
		return res, err
	}
	var redisCPU0 time.Duration
	if redisPid != 0 {
		if redisCPU0, err = childproc.CPUTime(redisPid); err != nil {
			return res, err
		}
	}
	raw0, gz0 := sink.Bytes()
	events0 := sink.Events()
	profileDone := make(chan error, 1)
	name := strings.NewReplacer("+", "-").Replace(p.name)
	if v.name != "" {
		name += "." + v.name
	}
	if o.profileDir != "" {
		go func() { profileDone <- profile(pprofAddr, o.duration, filepath.Join(o.profileDir, name+".cpu.pprof")) }()
	} else {
		profileDone <- nil
	}
	tp := sender.Run(ctx, loadtest.Load{Generator: gen, BatchSize: o.batch, Format: p.format, Gzip: o.gzip, Concurrency: o.concurrency, Duration: o.duration})
	if err := waitDelivered(sink, sender.Acked, 2*time.Minute); err != nil {
		return res, err
	}
	cpu1, err := childproc.CPUTime(proc.Pid())
	if err != nil {
		return res, err
	}
	if redisPid != 0 {
		redisCPU1, err := childproc.CPUTime(redisPid)
		if err != nil {
			return res, err
		}
		res.RedisCPUSecPerMillion = (redisCPU1 - redisCPU0).Seconds() / float64(max(tp.AcceptedEvents, 1)) * 1e6
	}
	if err := <-profileDone; err != nil {
		fmt.Fprintf(os.Stderr, "bench: profile: %v\n", err)
	}
	if o.profileDir != "" {
		if err := fetch(fmt.Sprintf("http://%s/debug/pprof/allocs", pprofAddr), filepath.Join(o.profileDir, name+".allocs.pprof")); err != nil {
			fmt.Fprintf(os.Stderr, "bench: allocs profile: %v\n", err)
		}
	}
	raw1, gz1 := sink.Bytes()
	if events := sink.Events() - events0; events > 0 {
		res.HECBytesPerEvent = float64(raw1-raw0) / float64(events)
		res.GzipBytesPerEvent = float64(gz1-gz0) / float64(events)
	}
	res.ThroughputEvents = tp.AcceptedEvents
	res.AcceptedPerSecond = tp.AcceptedPerSecond()
	res.CPUSeconds = (cpu1 - cpu0).Seconds()
	res.EventsPerCPUSecond = float64(tp.AcceptedEvents) / res.CPUSeconds
	res.CPUSecPerMillion = res.CPUSeconds / float64(tp.AcceptedEvents) * 1e6
	res.Refused = sumRefused(tp)

	if fake != nil {
		// Let the update queue catch up before counting its calls.
		time.Sleep(2 * time.Second)
		calls := fake.Requests("", "/api/v2/")[apiBefore:]
		for _, c := range calls {
			switch c.Method {
			case http.MethodGet:
				res.Lookups++
			case http.MethodPatch:
				res.Updates++
			}
		}
		res.APICallsPer10k = float64(len(calls)) / float64(tp.AcceptedEvents+fr.AcceptedEvents) * 1e4
		res.NewUsers = newUsers(gen) - newUsersBefore
	}
	lost, dupes, _ := sink.Check(sender.Acked)
	res.Lost, res.Duplicates = len(lost), dupes
	return res, nil
}

// newUsers is how many never-seen users the generator has made so far.
func newUsers(g *loadtest.Generator) int64 { return g.NewUsers() }

func sumRefused(s loadtest.Stats) int64 {
	var n int64
	for _, c := range s.Refused {
		n += c
	}
	return n + s.Errors
}

// waitDelivered waits until every acknowledged event reached the sink.
func waitDelivered(sink *loadtest.Sink, acked *loadtest.IDSet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if lost, _, _ := sink.Check(acked); len(lost) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	lost, _, _ := sink.Check(acked)
	return fmt.Errorf("%d acknowledged events not delivered after %s", len(lost), timeout)
}

func profile(addr string, d time.Duration, path string) error {
	return fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())), path)
}

func fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median is the run with the median events per CPU-second (the lower
// middle one of an even count), its other figures kept with it so that a
// row is one real run, and the range over all runs.
func median(rs []Result) Result {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b Result) int { return cmp.Compare(a.EventsPerCPUSecond, b.EventsPerCPUSecond) })
	m := sorted[(len(sorted)-1)/2]
	m.MinEventsPerCPUSecond, m.MaxEventsPerCPUSecond = sorted[0].EventsPerCPUSecond, sorted[len(sorted)-1].EventsPerCPUSecond
	return m
}

// machine names the CPU the figures come from: they compare only within one run.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s %s/%s; load average at the start %s, at the end %s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		loadAtStart, loadAverage())
}

// loadAtStart is the load average when the run began: a result is only
// worth its ratios on a machine that ran nothing else.
var loadAtStart = loadAverage()

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func printTable(w io.Writer, o options, results []Result) {
	fmt.Fprintf(w, "Machine: %s.\n", machine())
	fmt.Fprintf(w, "Batches of %d events (about 0.95 KB each), gzip %v; throughput with %d requests in flight for %s; latency and memory at %.0f events/s for %s.\n\n",
		o.batch, o.gzip, o.concurrency, o.duration, o.rate, o.duration)
	if o.rounds > 1 {
		fmt.Fprintf(w, "Each row is the median of %d interleaved rounds by events per CPU-second; the range over the rounds is in brackets.\n\n", o.rounds)
	}
	fmt.Fprintln(w, "| pipeline | events/s acked | events per CPU-second | CPU s per 1M events | HEC bytes per event (gzip) | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | Mgmt API calls per 10k events | refused batches | lost | duplicates |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		api := "n/a"
		if strings.HasPrefix(r.Pipeline, "ours") {
			api = fmt.Sprintf("%.1f (%d lookups, %d updates, %d new users)", r.APICallsPer10k, r.Lookups, r.Updates, r.NewUsers)
		}
		perCPU := fmt.Sprintf("%.0f", r.EventsPerCPUSecond)
		if o.rounds > 1 {
			perCPU += fmt.Sprintf(" [%.0f-%.0f]", r.MinEventsPerCPUSecond, r.MaxEventsPerCPUSecond)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %.1f | %.0f (%.0f) | %.1f | %.1f | %.1f | %.0f | %s | %d | %d | %d |\n",
			r.Pipeline, r.AcceptedPerSecond, perCPU, r.CPUSecPerMillion, r.HECBytesPerEvent, r.GzipBytesPerEvent, r.P50ms, r.P99ms, r.P999ms, r.PeakRSSMiB, api, r.Refused, r.Lost, r.Duplicates)
	}
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Pipeline] = r
	}
	ratio := func(a, b string) {
		ra, okA := byName[a]
		rb, okB := byName[b]
		if okA && okB {
			fmt.Fprintf(w, "- %s / %s = %.2fx\n", a, b, ra.EventsPerCPUSecond/rb.EventsPerCPUSecond)
		}
	}
	fmt.Fprintln(w, "\nRatios of events per CPU-second:")
	ratio("ours, Redis claims", "ours")
	if r, ok := byName["ours, Redis claims"]; ok {
		fmt.Fprintf(w, "- the redis-server of \"ours, Redis claims\" used %.2f CPU s per 1M events besides\n", r.RedisCPUSecPerMillion)
	}
	ratio("ours", "ours, every attribute a field")
	ratio("ours", "webhookevent+transform")
	ratio("ours", "hec-passthrough")
	ratio("ours", "webhookevent+transform, journal queue")
	ratio("ours", "ours, file_storage queue")
	ratio("webhookevent+transform, journal queue", "webhookevent+transform")
	ratio("ours, in-memory queue", "ours")
	ratio("ours, in-memory queue", "hec-passthrough, in-memory queue")
}
