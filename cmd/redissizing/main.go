// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Command redissizing measures what the signup processor's shared claims
// cost a Redis server: memory and append-only file bytes per claim, for
// the sizing tables in docs/kubernetes.md.
//
// For each count it starts a fresh redis-server (Debian's package; see
// scripts/ensure-redis.sh) on a free loopback port in a temporary
// directory, with AOF on and the example's eviction policy (only expiring
// keys), writes that many claims the way the processor does (SET NX,
// pipelined), and reads INFO memory and the AOF's size before and after,
// then again after an AOF rewrite (what a restarted or long-running server
// keeps on disk). It also measures a pending update and a registered Login
// (a key with an expiry) on fresh servers. The result, with the machine's
// load average, goes to a dated JSON file.
//
//	go run ./cmd/redissizing -n 100000,1000000
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// The claim's shape: one key per tenant and user, whose value names the
// record that carries the SignUp (an Auth0 log id is 56 characters) and
// the pairing key of the user's signup and first login.
const (
	tenant    = "acme.eu.auth0.com"
	keyPrefix = "otelcol-auth0"
	logIDLen  = 56
)

func claimKey(user string) string {
	return keyPrefix + ":{" + tenant + "}:signup:" + user
}

func claimValue(logID, user string) string {
	return `{"r":"` + logID + `","l":"` + user + `#1"}`
}

// Result is one count's measurement.
type Result struct {
	Claims               int     `json:"claims"`
	KeyBytes             int     `json:"key_bytes"`
	ValueBytes           int     `json:"value_bytes"`
	UsedMemoryBefore     int64   `json:"used_memory_before"`
	UsedMemoryAfter      int64   `json:"used_memory_after"`
	UsedMemoryPerClaim   float64 `json:"used_memory_per_claim"`
	RSSAfter             int64   `json:"used_memory_rss_after"`
	RSSPerClaim          float64 `json:"used_memory_rss_per_claim"`
	AOFBytesBefore       int64   `json:"aof_bytes_before"`
	AOFBytesAfter        int64   `json:"aof_bytes_after"`
	AOFPerClaim          float64 `json:"aof_bytes_per_claim"`
	AOFRewrittenBytes    int64   `json:"aof_rewritten_bytes"`
	AOFRewrittenPerClaim float64 `json:"aof_rewritten_bytes_per_claim"`
	WriteSeconds         float64 `json:"write_seconds"`
	ClaimsPerSecond      float64 `json:"claims_per_second_pipelined_loopback"`
}

// Report is the file's content.
type Report struct {
	Date         string   `json:"date"`
	RedisVersion string   `json:"redis_version"`
	Allocator    string   `json:"mem_allocator"`
	Config       []string `json:"redis_args"`
	CPUs         int      `json:"cpus"`
	LoadBefore   string   `json:"loadavg_before"`
	LoadAfter    string   `json:"loadavg_after"`
	Pipeline     int      `json:"pipeline"`
	Results      []Result `json:"results"`
	// A pending app_metadata update, for the backlog a slow Management API
	// leaves: one stream entry naming the user and the record.
	PendingUpdates       int     `json:"pending_updates"`
	PendingUpdatePerItem float64 `json:"used_memory_per_pending_update"`
	// A registered Login: a record decided a Login for want of an answer,
	// kept redis.login_ttl so that no other replica makes it the SignUp.
	RegisteredLogins       int     `json:"registered_logins,omitempty"`
	RegisteredLoginPerItem float64 `json:"used_memory_per_registered_login,omitempty"`
	Note                   string  `json:"note"`
}

func main() {
	counts := flag.String("n", "100000,1000000", "claim counts, comma-separated; each on a fresh server")
	updates := flag.Int("updates", 100000, "pending updates written to a stream (0: none)")
	logins := flag.Int("logins", 100000, "registered Logins written with an expiry (0: none)")
	pipeline := flag.Int("pipeline", 1000, "claims per pipelined round trip")
	out := flag.String("out", "", "result file (default bench/results/redis-memory-<date>.json)")
	flag.Parse()
	date := time.Now().UTC().Format("2006-01-02")
	if *out == "" {
		*out = filepath.Join("bench", "results", "redis-memory-"+date+".json")
	}
	report := Report{
		Date: date, CPUs: runtime.NumCPU(), Pipeline: *pipeline, LoadBefore: loadavg(),
		Note: "per claim = (after - before) / claims; a claim is SET key value NX with no expiry, a registered Login SET key 1 PX 2h; the AOF before a rewrite holds each SET as sent (RESP), after BGREWRITEAOF an RDB preamble",
	}
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			log.Fatalf("redissizing: bad count %q", s)
		}
		r, info, err := measure(n, *pipeline)
		if err != nil {
			log.Fatalf("redissizing: %d claims: %v", n, err)
		}
		report.RedisVersion, report.Allocator, report.Config = info.version, info.allocator, info.args
		report.Results = append(report.Results, r)
		log.Printf("%d claims: %.1f bytes of used_memory, %.1f of RSS, %.1f of AOF (%.1f rewritten) per claim; %.0f claims/s",
			n, r.UsedMemoryPerClaim, r.RSSPerClaim, r.AOFPerClaim, r.AOFRewrittenPerClaim, r.ClaimsPerSecond)
	}
	if *updates > 0 {
		per, err := measureStream(*updates)
		if err != nil {
			log.Fatalf("redissizing: %d pending updates: %v", *updates, err)
		}
		report.PendingUpdates, report.PendingUpdatePerItem = *updates, per
		log.Printf("%d pending updates: %.1f bytes of used_memory each", *updates, per)
	}
	if *logins > 0 {
		per, err := measureLogins(*logins)
		if err != nil {
			log.Fatalf("redissizing: %d registered Logins: %v", *logins, err)
		}
		report.RegisteredLogins, report.RegisteredLoginPerItem = *logins, per
		log.Printf("%d registered Logins: %.1f bytes of used_memory each", *logins, per)
	}
	report.LoadAfter = loadavg()
	raw, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(raw, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(*out)
}

type serverInfo struct {
	version, allocator string
	args               []string
}

// As the shipped example runs it: AOF fsynced every second, no RDB
// snapshots, refuse writes rather than evict a claim.
var serverArgs = []string{"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "volatile-lru"}

// startServer starts a redis-server in a new directory; stop kills it and
// removes the directory.
func startServer(ctx context.Context) (c *redis.Client, dir string, stop func(), err error) {
	dir, err = os.MkdirTemp("", "redissizing-")
	if err != nil {
		return nil, "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	cmd := exec.Command("redis-server", append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--daemonize", "no", "--logfile", "",
	}, serverArgs...)...)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, fmt.Errorf("starting redis-server (scripts/ensure-redis.sh installs it): %w", err)
	}
	c = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), DisableIdentity: true})
	stop = func() {
		_ = c.Close()
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	if err := waitReady(ctx, c); err != nil {
		stop()
		return nil, "", nil, err
	}
	return c, dir, stop, nil
}

// measureStream writes n pending updates to the tenant's stream and
// returns the used_memory each takes.
func measureStream(n int) (float64, error) {
	stream := keyPrefix + ":{" + tenant + "}:updates"
	return measurePerItem(n, func(ctx context.Context, p redis.Pipeliner) {
		p.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []string{"u", "auth0|" + randomHex(12), "r", logID()}})
	})
}

// measureLogins writes n registered Logins the way the settle script does
// (a key per record id, with an expiry) and returns the used_memory each
// takes.
func measureLogins(n int) (float64, error) {
	return measurePerItem(n, func(ctx context.Context, p redis.Pipeliner) {
		p.Set(ctx, keyPrefix+":{"+tenant+"}:login:"+logID(), "1", 2*time.Hour)
	})
}

// measurePerItem writes n items with write, pipelined 1,000 at a time, on
// a fresh server, and returns the used_memory each takes.
func measurePerItem(n int, write func(context.Context, redis.Pipeliner)) (float64, error) {
	ctx := context.Background()
	c, _, stop, err := startServer(ctx)
	if err != nil {
		return 0, err
	}
	defer stop()
	before, err := infoMemory(ctx, c)
	if err != nil {
		return 0, err
	}
	for done := 0; done < n; {
		p := c.Pipeline()
		for i := 0; i < 1000 && done < n; i++ {
			write(ctx, p)
			done++
		}
		if _, err := p.Exec(ctx); err != nil {
			return 0, err
		}
	}
	after, err := infoMemory(ctx, c)
	if err != nil {
		return 0, err
	}
	return float64(after.int("used_memory")-before.int("used_memory")) / float64(n), nil
}

func measure(n, pipeline int) (Result, serverInfo, error) {
	ctx := context.Background()
	c, dir, stop, err := startServer(ctx)
	if err != nil {
		return Result{}, serverInfo{}, err
	}
	defer stop()
	before, err := infoMemory(ctx, c)
	if err != nil {
		return Result{}, serverInfo{}, err
	}
	aofBefore, err := dirSize(filepath.Join(dir, "appendonlydir"))
	if err != nil {
		return Result{}, serverInfo{}, err
	}

	r := Result{Claims: n}
	start := time.Now()
	for done := 0; done < n; {
		p := c.Pipeline()
		for i := 0; i < pipeline && done < n; i++ {
			user := "auth0|" + randomHex(12)
			key, value := claimKey(user), claimValue(logID(), user)
			r.KeyBytes, r.ValueBytes = len(key), len(value)
			p.SetNX(ctx, key, value, 0)
			done++
		}
		cmds, err := p.Exec(ctx)
		if err != nil {
			return Result{}, serverInfo{}, err
		}
		for _, cmd := range cmds {
			if !cmd.(*redis.BoolCmd).Val() {
				return Result{}, serverInfo{}, errors.New("a fresh key was already claimed")
			}
		}
	}
	r.WriteSeconds = time.Since(start).Seconds()
	r.ClaimsPerSecond = float64(n) / r.WriteSeconds
	if err := c.DBSize(ctx).Err(); err != nil {
		return Result{}, serverInfo{}, err
	}
	// everysec: give the last second's writes time to reach the file.
	time.Sleep(1500 * time.Millisecond)
	after, err := infoMemory(ctx, c)
	if err != nil {
		return Result{}, serverInfo{}, err
	}
	aofAfter, err := dirSize(filepath.Join(dir, "appendonlydir"))
	if err != nil {
		return Result{}, serverInfo{}, err
	}
	if err := c.BgRewriteAOF(ctx).Err(); err != nil {
		return Result{}, serverInfo{}, err
	}
	if err := waitRewrite(ctx, c); err != nil {
		return Result{}, serverInfo{}, err
	}
	rewritten, err := dirSize(filepath.Join(dir, "appendonlydir"))
	if err != nil {
		return Result{}, serverInfo{}, err
	}

	r.UsedMemoryBefore, r.UsedMemoryAfter = before.int("used_memory"), after.int("used_memory")
	r.UsedMemoryPerClaim = float64(r.UsedMemoryAfter-r.UsedMemoryBefore) / float64(n)
	r.RSSAfter = after.int("used_memory_rss")
	r.RSSPerClaim = float64(r.RSSAfter-before.int("used_memory_rss")) / float64(n)
	r.AOFBytesBefore, r.AOFBytesAfter, r.AOFRewrittenBytes = aofBefore, aofAfter, rewritten
	r.AOFPerClaim = float64(aofAfter-aofBefore) / float64(n)
	r.AOFRewrittenPerClaim = float64(rewritten-aofBefore) / float64(n)

	server, err := c.InfoMap(ctx, "server").Result()
	if err != nil {
		return Result{}, serverInfo{}, err
	}
	return r, serverInfo{version: server["Server"]["redis_version"], allocator: after["mem_allocator"], args: serverArgs}, nil
}

type info map[string]string

func (i info) int(k string) int64 {
	v, _ := strconv.ParseInt(i[k], 10, 64)
	return v
}

func infoMemory(ctx context.Context, c *redis.Client) (info, error) {
	m, err := c.InfoMap(ctx, "memory").Result()
	if err != nil {
		return nil, err
	}
	return m["Memory"], nil
}

func waitReady(ctx context.Context, c *redis.Client) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer within 10s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitRewrite(ctx context.Context, c *redis.Client) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		m, err := c.InfoMap(ctx, "persistence").Result()
		if err != nil {
			return err
		}
		p := m["Persistence"]
		if p["aof_rewrite_in_progress"] == "0" && p["aof_rewrite_scheduled"] == "0" {
			if p["aof_last_bgrewrite_status"] != "ok" {
				return fmt.Errorf("AOF rewrite: %s", p["aof_last_bgrewrite_status"])
			}
			return nil
		}
	}
	return errors.New("AOF rewrite did not finish within 5 minutes")
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	return total, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logID is an Auth0-like log id: digits, 56 characters.
func logID() string {
	b := make([]byte, logIDLen)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	copy(b, "900")
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return strings.TrimSpace(string(raw))
	}
	return strings.Join(f[:3], " ")
}
