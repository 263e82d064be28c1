// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"
)

const (
	secret       = "model-secret"
	clientID     = "model-client"
	clientSecret = "model-client-secret"
)

var storageID = component.MustNewID("model_storage")

var errCrashed = errors.New("the collector crashed")

// world is what outlives the collectors' crashes: Auth0 (the fake tenant),
// each process's storage directory and address, the redis-server they
// share, and what the exporter accepted.
type world struct {
	t        *testing.T
	scenario *scenario
	rng      *rand.Rand
	rngMu    sync.Mutex

	fake      *fakeauth0.Server
	fakeURL   string
	domain    string
	processes []*process
	redis     *redistest.Server // nil: each process's claims are its own

	exported exportLog
	trace    traceLog
	acked    map[string]record // set by play
	refused  atomic.Int64      // requests answered with anything but 200, or not at all
	// redisDown is set while the redis-server is killed; refusedDown
	// counts the requests refused meanwhile.
	redisDown   atomic.Bool
	refusedDown atomic.Int64

	// claimed lists, per user, the runs that wrote the user's SignUp claim
	// to their storage (unresumedUpdates).
	claimedMu sync.Mutex
	claimed   map[string]map[*run]bool
	// patched lists, per user, the runs that sent an app_metadata update
	// Auth0 answered 200, in order, and when.
	patched map[string][]patch
	// outages are the redis-server's, as they happened.
	outages []interval
}

type patch struct {
	run *run
	at  time.Time
}

type interval struct{ from, to time.Time }

// process is one collector instance: its address and storage directory,
// the same in each of its runs.
type process struct {
	index int
	dir   string

	mu   sync.Mutex
	addr string // where its runs listen and its senders send
}

func (p *process) address() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// moveTo gives the process a new address: another program on the machine
// took its port between two runs, as a pod may come back on a new IP.
func (p *process) moveTo(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addr = addr
}

// exported is one record the exporter accepted.
type exported struct {
	run    string
	user   string
	id     string // auth0.log_id or auth0.event_id
	event  string // SignUp, Login or ""
	login  string
	action bool
}

type exportLog struct {
	mu      sync.Mutex
	records []exported
	// batches the exporter accepted, for the crash window: their SignUps
	// and whether the processor's ConsumeLogs returned nil for them.
	batches []*acceptedBatch
	// windows counts, per user, the SignUps the exporter took whose run
	// crashed before the processor returned: their claims were left
	// doubtful, and only a redelivery of the same record may be the
	// SignUp again.
	windows map[string]int
}

type acceptedBatch struct {
	run     *run
	token   *callToken
	signups []string
}

type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) without(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for _, line := range l.lines {
		if !strings.Contains(line, substr) {
			lines = append(lines, line)
		}
	}
	return lines
}

func (l *traceLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

func newWorld(t *testing.T, s *scenario) *world {
	domain := fmt.Sprintf("model%d.eu.auth0.com", s.seed)
	fake := fakeauth0.New(clientID, clientSecret, "https://"+domain+"/api/v2/")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	for _, u := range s.users {
		if u.returning {
			fake.AddUser(u.id, map[string]any{"signedUp": true})
		} else {
			fake.AddUser(u.id, nil)
		}
	}
	for _, r := range s.pulled {
		fake.AddLogs(r.event().Data())
	}
	w := &world{
		t: t, scenario: s, rng: rand.New(rand.NewPCG(s.seed, 0xfa17)),
		fake: fake, fakeURL: srv.URL, domain: domain, claimed: map[string]map[*run]bool{}, patched: map[string][]patch{},
	}
	for i := range s.processes {
		w.processes = append(w.processes, &process{index: i, dir: t.TempDir(), addr: freeAddr(t)})
	}
	if s.shared() {
		w.redis = redistest.Start(t)
	}
	return w
}

func (w *world) claimWritten(user string, r *run) {
	w.claimedMu.Lock()
	defer w.claimedMu.Unlock()
	if w.claimed[user] == nil {
		w.claimed[user] = map[*run]bool{}
	}
	w.claimed[user][r] = true
}

func (w *world) patchedBy(user string, r *run) {
	w.claimedMu.Lock()
	defer w.claimedMu.Unlock()
	w.patched[user] = append(w.patched[user], patch{run: r, at: time.Now()})
}

func (w *world) redisWasDown(from, to time.Time) {
	w.claimedMu.Lock()
	defer w.claimedMu.Unlock()
	w.outages = append(w.outages, interval{from, to})
}

// leaseLapsed tells whether an update sent at sent may have been taken
// over by another replica while its sender held it, and sent again at
// again: the redis-server was down, ending no earlier than a lease before
// the sending and beginning before the second one, for longer than what
// was left of the sender's lease (renewed every third of it), so the
// entry's lease ran out before the sender could acknowledge it. An
// update's write is idempotent, and the design allows this second one.
func (w *world) leaseLapsed(sent, again time.Time) bool {
	for _, o := range w.outages {
		if o.to.Sub(o.from) >= 2*modelLease/3 && o.to.After(sent.Add(-modelLease)) && o.from.Before(again) {
			return true
		}
	}
	return false
}

func (w *world) patchesSeen(user string) int {
	w.claimedMu.Lock()
	defer w.claimedMu.Unlock()
	return len(w.patched[user])
}

// unresumedUpdates counts the user's updates after the first that no
// crash explains: an update is sent again legitimately only by a later
// run of a process whose earlier run wrote the user's claim and crashed
// (it may have sent the update, or queued it, without recording that), or,
// with a shared store, by any run after the run that sent it crashed (it
// took the update from the tenant's stream and died before acknowledging
// it; another replica takes it over) or lost its lease while the
// redis-server was down (leaseLapsed).
func (w *world) unresumedUpdates(user string) int {
	w.claimedMu.Lock()
	defer w.claimedMu.Unlock()
	n := 0
	for i, p := range w.patched[user] {
		if i == 0 {
			continue
		}
		r := p.run
		resumed := false
		for c := range w.claimed[user] {
			if c.process == r.process && c.n < r.n && c.dead.Load() {
				resumed = true
			}
		}
		for _, sent := range w.patched[user][:i] {
			if w.scenario.shared() && sent.run != r && (sent.run.dead.Load() || w.leaseLapsed(sent.at, p.at)) {
				resumed = true
			}
		}
		if !resumed {
			n++
		}
	}
	return n
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// pause sleeps up to longest, a random while.
func (w *world) pause(longest time.Duration) {
	w.rngMu.Lock()
	d := time.Duration(w.rng.Int64N(int64(longest)))
	w.rngMu.Unlock()
	time.Sleep(d)
}

func (w *world) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	w.rngMu.Lock()
	defer w.rngMu.Unlock()
	return w.rng.Float64() < p
}

// run is one run of a collector process: the real receiver and signup
// processor on the process's storage directory, in front of the exporter.
// A crash makes every storage operation, exporter accept, Management API
// call and Redis connection of the run fail from that instant on, as if
// the process were gone, then stops it.
type run struct {
	n       int
	label   string // in the trace
	world   *world
	process *process
	faults  faults

	dead    atomic.Bool
	armed   atomic.Bool   // faults apply once the run has started
	crashed chan struct{} // closed by the first crash
	once    sync.Once
	// life is held for reading by every storage operation and exporter
	// accept of a live run, and for writing to tear the run down once it
	// is dead (when the operations fail without taking it).
	life sync.RWMutex

	storageOps atomic.Int64
	accepts    atomic.Int64
	claims     atomic.Int64

	clientsMu sync.Mutex
	clients   []storage.Client // handed out by the storage, closed by teardown

	files     extension.Extension
	api       *httptest.Server
	redis     *tcpProxy // nil without a shared redis-server
	receiver  receiver.Logs
	processor processor.Logs
}

// start starts a run of the process. It may be called off the test's
// goroutine, so it returns its errors rather than failing the test.
func (w *world) start(p *process, n int, f faults) (*run, error) {
	r := &run{n: n, label: runLabel(w.scenario, p.index, n), world: w, process: p, faults: f, crashed: make(chan struct{})}
	w.fake.FailNext(repeat(http.StatusServiceUnavailable, f.apiFailures)...)

	ff := filestorage.NewFactory()
	fcfg := ff.CreateDefaultConfig().(*filestorage.Config)
	fcfg.Directory = p.dir
	files, err := ff.Create(context.Background(), extensiontest.NewNopSettings(ff.Type()), fcfg)
	if err != nil {
		return nil, err
	}
	if err := files.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return nil, err
	}
	r.files = files

	// The Management API through this run only: gone with it.
	target, _ := url.Parse(w.fakeURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	r.api = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if r.dead.Load() {
			if hj, ok := rw.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			rw.WriteHeader(http.StatusBadGateway)
			return
		}
		if req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/api/v2/users/") && rand.Float64() < w.scenario.lookupFailures {
			w.trace.add("%s: %s %s -> 503 (the model's)", r.label, req.Method, req.URL.Path)
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rec := &statusRecorder{ResponseWriter: rw}
		proxy.ServeHTTP(rec, req)
		if req.Method == http.MethodPatch && rec.status == http.StatusOK {
			w.patchedBy(strings.TrimPrefix(req.URL.Path, "/api/v2/users/"), r)
		}
		if req.Method == http.MethodPatch || strings.HasPrefix(req.URL.Path, "/api/v2/users/") {
			w.trace.add("%s: %s %s -> %d", r.label, req.Method, req.URL.Path, rec.status)
		}
	}))
	if w.redis != nil {
		// The run's own way to Redis, cut when it crashes: a dead process
		// settles and confirms nothing.
		if r.redis, err = startProxy(w.redis.Addr()); err != nil {
			return nil, err
		}
	}

	host := modelHost{storageID: &crashableStorage{run: r}}
	down := &exporterStandIn{run: r}

	pf := signupprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*signupprocessor.Config)
	pcfg.Storage = &storageID
	pcfg.ManagementAPI.Domain = w.domain
	pcfg.ManagementAPI.ClientID = clientID
	pcfg.ManagementAPI.ClientSecret = clientSecret
	pcfg.ManagementAPI.ClientConfig.Endpoint = r.api.URL
	pcfg.ManagementAPI.RateLimit.WritesPerSecond, pcfg.ManagementAPI.RateLimit.WriteBurst = 1000, 1000
	pcfg.ManagementAPI.RateLimit.ReadsPerSecond, pcfg.ManagementAPI.RateLimit.ReadBurst = 1000, 1000
	pcfg.Lookups.Cooldown = 50 * time.Millisecond
	if w.scenario.recheckAfter > 0 {
		pcfg.Lookups.RecheckByCountAfter = w.scenario.recheckAfter
	}
	pcfg.Updates.DrainTimeout = 50 * time.Millisecond
	// A crashed run's updates are taken over by a live one within the
	// history's time.
	pcfg.Updates.Lease = modelLease
	pcfg.Updates.RetryOnFailure.InitialInterval = 10 * time.Millisecond
	pcfg.Updates.RetryOnFailure.MaxInterval = 50 * time.Millisecond
	if r.redis != nil {
		pcfg.Redis.Endpoint = r.redis.addr()
		pcfg.Redis.TLS.Insecure = true
		pcfg.Redis.Timeout = redisTimeout
	}
	if err := pcfg.Validate(); err != nil {
		return nil, err
	}
	pset := processortest.NewNopSettings(pf.Type())
	pset.Logger = zap.New(traceCore{trace: &w.trace, run: r.label})
	proc, err := pf.CreateLogs(context.Background(), pset, pcfg, down)
	if err != nil {
		return nil, err
	}
	if err := proc.Start(context.Background(), host); err != nil {
		return nil, err
	}
	r.processor = proc

	rcv, err := w.listen(p, r, pcfg, host, &probe{next: proc})
	if err != nil {
		return nil, err
	}
	r.receiver = rcv

	r.armed.Store(true)
	w.trace.add("%s started: %s", r.label, f)
	return r, nil
}

// listen starts the run's receiver on its process's address, or on a new
// one when another program took the port.
func (w *world) listen(p *process, r *run, pcfg *signupprocessor.Config, host component.Host, next consumer.Logs) (receiver.Logs, error) {
	for attempt := 0; ; attempt++ {
		rcv, err := w.createReceiver(p.address(), pcfg, next)
		if err != nil {
			return nil, err
		}
		err = startListening(rcv, host)
		if err == nil {
			return rcv, nil
		}
		if attempt == 2 || !(errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")) {
			return nil, err
		}
		was := p.address()
		p.moveTo(freeAddr(w.t))
		w.trace.add("%s: %s was taken by another program; the process moves to %s", r.label, was, p.address())
	}
}

func (w *world) createReceiver(addr string, pcfg *signupprocessor.Config, next consumer.Logs) (receiver.Logs, error) {
	rf := auth0loginreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*auth0loginreceiver.Config)
	rcfg.ServerConfig.NetAddr.Endpoint = addr
	rcfg.Secret = secret
	rcfg.RetryAfter = time.Second
	if w.scenario.pulled != nil {
		rcfg.Poll.Enabled = true
		rcfg.Poll.ManagementAPI = pcfg.ManagementAPI
		rcfg.Poll.Interval = time.Second
		rcfg.Poll.Start = "oldest"
		rcfg.Poll.Storage = &storageID
	}
	if err := rcfg.Validate(); err != nil {
		return nil, err
	}
	return rf.CreateLogs(context.Background(), receivertest.NewNopSettings(rf.Type()), rcfg, next)
}

// redisTimeout bounds a run's wait for Redis: while the server is down, a
// request that needs a claim is refused after it.
const redisTimeout = 300 * time.Millisecond

// modelLease is updates.lease in the model: short, so that outages
// outlast it and entries are taken over.
const modelLease = 300 * time.Millisecond

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// startListening starts the receiver, retrying while the previous run's
// socket is still being released.
func startListening(rcv receiver.Logs, host component.Host) error {
	var err error
	for range 50 {
		if err = rcv.Start(context.Background(), host); err == nil {
			return nil
		}
		_ = rcv.Shutdown(context.Background())
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func repeat(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}

// crash makes the run dead from this instant; teardown happens in crashed's
// reader. Safe to call from inside a storage operation or an accept.
func (r *run) crash(why string) {
	r.once.Do(func() {
		r.dead.Store(true)
		if r.redis != nil {
			r.redis.cut()
		}
		w := r.world
		w.trace.add("%s crashed %s", r.label, why)
		w.exported.openWindows(r)
		close(r.crashed)
	})
}

// teardown stops what is left of a dead run: its listener and connections
// at once, its components in the background, its storage once no
// operation is in flight.
func (r *run) teardown() {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_ = r.receiver.Shutdown(cancelled)
	r.life.Lock() // no storage operation or accept in flight from here on
	_ = r.processor.Shutdown(context.Background())
	r.clientsMu.Lock()
	for _, c := range r.clients {
		_ = c.Close(context.Background())
	}
	r.clientsMu.Unlock()
	_ = r.files.Shutdown(context.Background())
	r.life.Unlock()
	r.api.Close()
	if r.redis != nil {
		r.redis.cut()
	}
}

// stop ends the last run the way an orderly shutdown does.
func (r *run) stop() {
	r.armed.Store(false)
	require.NoError(r.world.t, r.receiver.Shutdown(context.Background()))
	require.NoError(r.world.t, r.processor.Shutdown(context.Background()))
	require.NoError(r.world.t, r.files.Shutdown(context.Background()))
	r.api.Close()
	if r.redis != nil {
		r.redis.cut()
	}
}

// step counts one storage operation or accept against the run's crash
// point, and says whether the caller may go on and whether it crashes
// after it.
func (r *run) step(counter *atomic.Int64, crashAt int, what string) (proceed, crashAfter bool) {
	if r.dead.Load() {
		return false, false
	}
	if !r.armed.Load() {
		return true, false
	}
	n := counter.Add(1)
	if crashAt > 0 && n == int64(crashAt) {
		if r.faults.crashAfter {
			return true, true
		}
		r.crash(fmt.Sprintf("before %s %d", what, n))
		return false, false
	}
	return true, false
}

// crashableStorage hands out file_storage clients that die with the run.
type crashableStorage struct {
	run *run
}

func (s *crashableStorage) Start(context.Context, component.Host) error { return nil }
func (s *crashableStorage) Shutdown(context.Context) error              { return nil }

func (s *crashableStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	inner, err := s.run.files.(storage.Extension).GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	s.run.clientsMu.Lock()
	s.run.clients = append(s.run.clients, inner)
	s.run.clientsMu.Unlock()
	return &crashableClient{run: s.run, inner: inner}, nil
}

type crashableClient struct {
	run   *run
	inner storage.Client
}

var errStorageFault = errors.New("injected storage fault")

func (c *crashableClient) do(op func() error) error {
	r := c.run
	if r.dead.Load() {
		return errCrashed
	}
	r.life.RLock()
	defer r.life.RUnlock()
	proceed, crashAfter := r.step(&r.storageOps, r.faults.crashAtStorageOp, "storage operation")
	if !proceed {
		return errCrashed
	}
	if !crashAfter && r.armed.Load() && r.world.chance(r.faults.storageErrorRate) {
		return errStorageFault
	}
	// A write takes time, so that batches overlap as they do on a disk;
	// a crash meanwhile stops it.
	r.world.pause(500 * time.Microsecond)
	if r.dead.Load() {
		return errCrashed
	}
	err := op()
	if crashAfter {
		r.crash(fmt.Sprintf("after storage operation %d", r.storageOps.Load()))
		return errCrashed
	}
	return err
}

func (c *crashableClient) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := c.do(func() (err error) { v, err = c.inner.Get(ctx, key); return err })
	return v, err
}

func (c *crashableClient) Set(ctx context.Context, key string, value []byte) error {
	return c.do(func() error { return c.inner.Set(ctx, key, value) })
}

func (c *crashableClient) Delete(ctx context.Context, key string) error {
	return c.do(func() error { return c.inner.Delete(ctx, key) })
}

func (c *crashableClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	err := c.do(func() error {
		err := c.inner.Batch(ctx, ops...)
		if err == nil {
			// Written, even if the run crashes right after.
			for _, op := range ops {
				if op.Type == storage.Set && isClaimWrite(op.Value) {
					c.run.world.claimWritten(strings.TrimPrefix(op.Key, "user/"), c.run)
				}
			}
		}
		return err
	})
	if err == nil && c.run.faults.crashAtClaim > 0 {
		for _, op := range ops {
			if op.Type == storage.Set && isClaimWrite(op.Value) && c.run.claims.Add(1) == int64(c.run.faults.crashAtClaim) {
				c.run.crash(fmt.Sprintf("after the write of SignUp claim %d", c.run.faults.crashAtClaim))
				return errCrashed
			}
		}
	}
	for _, op := range ops {
		if op.Type != storage.Get {
			c.run.world.trace.add("%s: storage %v %s=%s: %v", c.run.label, op.Type, op.Key, op.Value, err)
		}
	}
	return err
}

func (c *crashableClient) Close(ctx context.Context) error {
	if c.run.dead.Load() {
		return nil
	}
	return c.inner.Close(ctx)
}

type modelHost map[component.ID]component.Component

func (h modelHost) GetExtensions() map[component.ID]component.Component { return h }

// probe stands between the receiver and the processor and marks each call
// it passes on, so that the exporter knows whether the processor returned
// nil for a batch it accepted before the run crashed.
type probe struct {
	next consumer.Logs
}

type callToken struct {
	returnedNil atomic.Bool
}

type tokenKey struct{}

func (p *probe) Capabilities() consumer.Capabilities { return p.next.Capabilities() }

func (p *probe) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	tok := &callToken{}
	err := p.next.ConsumeLogs(context.WithValue(ctx, tokenKey{}, tok), ld)
	if err == nil {
		tok.returnedNil.Store(true)
	}
	return err
}

// exporterStandIn is the exporter's persistent queue: what it accepts is
// kept for good (in the world), it refuses some batches as a full queue
// does, and it dies with the run.
type exporterStandIn struct {
	run *run
}

func (e *exporterStandIn) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

var errQueueFull = errors.New("sending queue is full")

func (e *exporterStandIn) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	r := e.run
	if r.dead.Load() {
		return errCrashed
	}
	r.life.RLock()
	defer r.life.RUnlock()
	proceed, crashAfter := r.step(&r.accepts, r.faults.crashAtAccept, "accept")
	if !proceed {
		return errCrashed
	}
	if !crashAfter && r.armed.Load() && r.world.chance(r.faults.refuseRate) {
		return errQueueFull
	}
	// The persistent queue's write: claims stay in flight that long; a
	// crash meanwhile stops it.
	r.world.pause(4 * time.Millisecond)
	if r.dead.Load() {
		return errCrashed
	}
	tok, _ := ctx.Value(tokenKey{}).(*callToken)
	if !r.world.exported.accept(r, tok, ld) {
		return errCrashed
	}
	if crashAfter {
		r.crash(fmt.Sprintf("after accept %d", r.accepts.Load()))
		return errCrashed
	}
	return nil
}

// accept keeps the batch unless the run is dead: checked under the log's
// lock, which a crash takes to open its windows, so that a batch is either
// taken before the crash (and its window counted) or refused.
func (l *exportLog) accept(r *run, tok *callToken, ld plog.Logs) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.dead.Load() {
		return false
	}
	b := &acceptedBatch{run: r, token: tok}
	for i := range ld.ResourceLogs().Len() {
		for j := range ld.ResourceLogs().At(i).ScopeLogs().Len() {
			records := ld.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
			for k := range records.Len() {
				v := auth0event.NewView(records.At(k).Attributes(), records.At(k).Body())
				x := exported{
					run:    r.label,
					user:   v.Str(auth0event.AttrUserID),
					id:     v.ID(),
					event:  v.Str(auth0event.AttrEvent),
					action: v.Source() == auth0event.SourceAction,
				}
				if n, ok := v.LoginsCount(); ok {
					x.login = x.user + "#" + strconv.FormatInt(n, 10)
				}
				l.records = append(l.records, x)
				if x.event == auth0event.EventSignUp {
					b.signups = append(b.signups, x.user)
				}
			}
		}
	}
	l.batches = append(l.batches, b)
	return true
}

// openWindows is called as a run crashes: every SignUp the exporter took
// in that run whose ConsumeLogs had not returned nil was left with a
// doubtful claim.
func (l *exportLog) openWindows(run *run) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.batches {
		if b.run == run && b.token != nil && !b.token.returnedNil.Load() {
			b.token = nil // counted once
			for _, u := range b.signups {
				l.window(u)
			}
		}
	}
}

func (l *exportLog) window(user string) {
	if l.windows == nil {
		l.windows = map[string]int{}
	}
	l.windows[user]++
}

// traceCore writes the processor's log lines of Info and above into the
// history's trace.
type traceCore struct {
	trace  *traceLog
	run    string
	fields []zapcore.Field
}

func (c traceCore) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }
func (c traceCore) With(fields []zapcore.Field) zapcore.Core {
	c.fields = append(append([]zapcore.Field(nil), c.fields...), fields...)
	return c
}

func (c traceCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c traceCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(c.fields, fields...) {
		f.AddTo(enc)
	}
	c.trace.add("%s: %s %s %v", c.run, e.Level, e.Message, enc.Fields)
	return nil
}
func (c traceCore) Sync() error { return nil }

// isClaimWrite recognizes the signup processor's write of a SignUp claim
// not yet confirmed (its state is the processor's own business: this only
// picks a crash point).
func isClaimWrite(value []byte) bool {
	return bytes.Contains(value, []byte(`"k":true`)) && !bytes.Contains(value, []byte(`"c":true`))
}

// tcpProxy is one run's connections to the redis-server: cut, they are
// gone at once, as a dead process's are.
type tcpProxy struct {
	listener net.Listener
	target   string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	isCut bool
}

func startProxy(target string) (*tcpProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &tcpProxy{listener: l, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *tcpProxy) addr() string { return p.listener.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.listener.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

// pipe forwards one connection; a server that is down closes it at once.
func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, redisTimeout)
	if err != nil || !p.track(c, up) {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	forward := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go forward(up, c)
	go forward(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isCut {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// cut closes the listener and every connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isCut {
		return
	}
	p.isCut = true
	_ = p.listener.Close()
	for c := range p.conns {
		_ = c.Close()
	}
}
