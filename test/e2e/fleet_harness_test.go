//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"
)

// The gateways of the fleet tests listen on fixed loopback addresses, one
// per gateway, on the OTLP/gRPC port: the agents' consistent hash ring is
// built from these strings, so fixed names give the same ring, and the same
// share of users per gateway, on every run (as the StatefulSet's stable pod
// names do in production). Random ports would give a different ring each
// run. A lock file keeps two runs on one machine from colliding.
var fleetGatewayAddrs = []string{"127.0.3.1:4317", "127.0.3.2:4317", "127.0.3.3:4317"}

// lockFleetAddresses holds a machine-wide lock on the fixed addresses for
// the rest of the test.
func lockFleetAddresses(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "otelcol-auth0-e2e-fleet.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// fleet is agents in front of sharded gateways, a HEC endpoint and the
// fake Management API, all on loopback.
type fleet struct {
	t     testing.TB
	mu    sync.Mutex // guards agents and gateways while posters run
	fake  *fakeauth0.Server
	api   *httptest.Server
	hec   *hecRecorder
	hecTS *httptest.Server

	gatewayAddrs   []string
	gatewayStorage []string
	gateways       []*Collector
	agentStorage   []string
	agents         []*Collector
	// gatewayEnv is added to every gateway's environment.
	gatewayEnv map[string]string
	tls        fleetTLS
}

// fleetTLS is the hop's private CA and the certificates it signed: the
// gateways' (server) and the agents' (client), as cert-manager issues them
// in the Kubernetes overlay.
type fleetTLS struct {
	caFile, certFile, keyFile   string // CA, gateway certificate and key
	agentCertFile, agentKeyFile string
}

type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func newCertAuthority(t testing.TB, name string) certAuthority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return certAuthority{cert: cert, key: key, der: der}
}

// issue writes a certificate and its key signed by ca, for a server (the
// fixed addresses and the StatefulSet's names) or a client.
func (ca certAuthority) issue(t testing.TB, dir, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"*.otelcol-auth0-gateway.otelcol-auth0"}
		for _, addr := range fleetGatewayAddrs {
			host, _, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(host))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func writePEM(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
}

func newFleetTLS(t testing.TB, dir string) fleetTLS {
	t.Helper()
	ca := newCertAuthority(t, "otelcol-auth0-gateway-ca")
	out := fleetTLS{caFile: filepath.Join(dir, "ca.crt")}
	writePEM(t, out.caFile, "CERTIFICATE", ca.der)
	out.certFile, out.keyFile = ca.issue(t, dir, "otelcol-auth0-gateway", true)
	out.agentCertFile, out.agentKeyFile = ca.issue(t, dir, "otelcol-auth0-agent", false)
	return out
}

func newFleet(t testing.TB, gateways, agents int) *fleet {
	t.Helper()
	lockFleetAddresses(t)
	f := &fleet{t: t, fake: fakeauth0.New(FakeClientID, FakeClientSecret, "https://"+FakeDomain+"/api/v2/"), hec: newHECRecorder(),
		tls: newFleetTLS(t, t.TempDir())}
	f.api = httptest.NewServer(f.fake)
	t.Cleanup(f.api.Close)
	f.hecTS = httptest.NewServer(f.hec)
	t.Cleanup(f.hecTS.Close)
	f.gatewayEnv = map[string]string{
		// The tests' burst of first logins would take minutes at the
		// production write budget (3/s a gateway).
		"AUTH0_API_WRITES_PER_SECOND": "100",
		"AUTH0_API_WRITE_BURST":       "50",
	}
	// FLEET_GATEWAY_ENV (K=V,K=V) adds to the gateways' environment, to
	// measure the fleet under other settings (docs/fleet.md).
	for _, kv := range strings.Split(os.Getenv("FLEET_GATEWAY_ENV"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f.gatewayEnv[k] = v
		}
	}
	for i := range gateways {
		f.gatewayAddrs = append(f.gatewayAddrs, fleetGatewayAddrs[i])
		f.gatewayStorage = append(f.gatewayStorage, t.TempDir())
	}
	f.gateways = make([]*Collector, gateways)
	for i := range gateways {
		f.startGateway(i)
	}
	for range agents {
		f.agentStorage = append(f.agentStorage, t.TempDir())
	}
	f.agents = make([]*Collector, agents)
	for i := range agents {
		f.startAgent(i, f.gatewayAddrs)
	}
	return f
}

func (f *fleet) startGateway(i int) {
	f.t.Helper()
	env := map[string]string{
		"OTELCOL_GATEWAY_LISTEN":         f.gatewayAddrs[i],
		"OTELCOL_GATEWAY_TLS_CERT_FILE":  f.tls.certFile,
		"OTELCOL_GATEWAY_TLS_KEY_FILE":   f.tls.keyFile,
		"OTELCOL_GATEWAY_CLIENT_CA_FILE": f.tls.caFile,
		"AUTH0_DOMAIN":                   FakeDomain,
		"AUTH0_CLIENT_ID":                FakeClientID,
		"AUTH0_CLIENT_SECRET":            FakeClientSecret,
		"AUTH0_MANAGEMENT_URL":           f.api.URL,
	}
	for k, v := range f.gatewayEnv {
		env[k] = v
	}
	// The recorder tells events apart by fields Splunk does not index by
	// default: the test opts in to them as a user would.
	fields, err := hecfields.Overlay(filepath.Join(repoRoot(f.t), "config/gateway.yaml"), recordedFields...)
	require.NoError(f.t, err)
	configs := []string{fields}
	// FLEET_GATEWAY_CONFIG (a "yaml:" overlay) changes the gateways'
	// configuration, to measure the fleet under other settings.
	if overlay := os.Getenv("FLEET_GATEWAY_CONFIG"); overlay != "" {
		configs = append(configs, overlay)
	}
	c := StartCollector(f.t, Options{Config: "config/gateway.yaml", HECEndpoint: f.hecTS.URL + "/services/collector", Storage: f.gatewayStorage[i], Env: env, Configs: configs})
	f.mu.Lock()
	f.gateways[i] = c
	f.mu.Unlock()
}

// startAgent starts agent i (again) on its storage, routing to gateways,
// with the fleet's client certificate.
func (f *fleet) startAgent(i int, gateways []string) {
	f.t.Helper()
	f.startAgentWithEnv(i, gateways, nil)
}

func (f *fleet) startAgentWithCert(i int, gateways []string, certFile, keyFile string) {
	f.t.Helper()
	f.startAgentWithEnv(i, gateways, map[string]string{"OTELCOL_AGENT_TLS_CERT_FILE": certFile, "OTELCOL_AGENT_TLS_KEY_FILE": keyFile})
}

// startAgentWithEnv starts agent i with extra environment over the fleet's.
func (f *fleet) startAgentWithEnv(i int, gateways []string, extra map[string]string) {
	f.t.Helper()
	env := map[string]string{
		"OTELCOL_GATEWAYS":            "[" + strings.Join(gateways, ", ") + "]",
		"OTELCOL_GATEWAY_CA_FILE":     f.tls.caFile,
		"OTELCOL_AGENT_TLS_CERT_FILE": f.tls.agentCertFile,
		"OTELCOL_AGENT_TLS_KEY_FILE":  f.tls.agentKeyFile,
	}
	for k, v := range extra {
		env[k] = v
	}
	c := StartCollector(f.t, Options{Config: "config/agent.yaml", Storage: f.agentStorage[i], Env: env})
	f.mu.Lock()
	f.agents[i] = c
	f.mu.Unlock()
}

// record is one log stream record as Auth0 sends it, and its log id.
type record struct {
	id   string
	line []byte
}

func loginRecord(e auth0test.Event) record { return record{id: e.LogID, line: e.JSON()} }

// userlessRecord is a record without a user (a rate-limit warning), which
// the agents spread over every gateway.
func userlessRecord(id string) record {
	b, err := json.Marshal(map[string]any{"log_id": id, "data": map[string]any{
		"date": "2026-11-20T08:13:25.118Z", "type": "limit_wc", "ip": "203.0.113.7",
		"description": "An IP address is blocked due to too many failed logins", "log_id": id,
	}})
	if err != nil {
		panic(err)
	}
	return record{id: id, line: b}
}

// post sends one log stream batch to an agent as Auth0 does: again until
// it is answered 200 (an agent restarting refuses connections meanwhile).
// It returns the log ids the agent acknowledged.
func (f *fleet) post(agent int, records []record) []string {
	f.t.Helper()
	var body []byte
	ids := make([]string, len(records))
	for i, r := range records {
		body = append(append(body, r.line...), '\n')
		ids[i] = r.id
	}
	last := "no answer"
	for attempt := 0; ; attempt++ {
		f.mu.Lock()
		c := f.agents[agent]
		f.mu.Unlock()
		req, err := http.NewRequest(http.MethodPost, "http://"+c.Receiver+"/auth0/logs", bytes.NewReader(body))
		if err != nil {
			panic(err)
		}
		req.Header.Set("Authorization", "Bearer "+Secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
		} else {
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ids
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, answer)
		}
		if attempt > 1200 {
			panic(fmt.Sprintf("agent %d did not accept a batch of %d bytes in 2 minutes; last answer: %s", agent, len(body), last))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hecRecorder is a Splunk HEC endpoint that keeps, for every event, its id,
// user, SignUp/Login decision and when it arrived.
type hecRecorder struct {
	mu     sync.Mutex
	events []fleetHECEvent
	// down makes it answer 503, as Splunk does when it is unavailable.
	down atomic.Bool
}

// recordedFields are the index-time fields the recorder reads.
var recordedFields = []string{"auth0.log_id", "auth0.event_id", "user.id", "auth0.event_basis"}

type fleetHECEvent struct {
	ID    string
	User  string
	Event string // SignUp, Login or ""
	Basis string // what the decision rested on
	At    time.Time
}

func newHECRecorder() *hecRecorder { return &hecRecorder{} }

func (h *hecRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.down.Load() {
		http.Error(w, `{"text":"Server is busy","code":9}`, http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
		return
	}
	now := time.Now()
	var got []fleetHECEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		var ev struct {
			Fields map[string]any `json:"fields"`
		}
		if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
			return
		}
		str := func(k string) string { s, _ := ev.Fields[k].(string); return s }
		id := str("auth0.log_id")
		if id == "" {
			id = str("auth0.event_id")
		}
		got = append(got, fleetHECEvent{ID: id, User: str("user.id"), Event: str("auth0.event"), Basis: str("auth0.event_basis"), At: now})
	}
	h.mu.Lock()
	h.events = append(h.events, got...)
	h.mu.Unlock()
	_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
}

func (h *hecRecorder) snapshot() []fleetHECEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fleetHECEvent(nil), h.events...)
}

// received counts arrivals per id.
func (h *hecRecorder) received() map[string]int {
	out := map[string]int{}
	for _, e := range h.snapshot() {
		out[e.ID]++
	}
	return out
}

// waitFor waits until every id has arrived at least once, and returns the
// ids still missing at the deadline.
func (h *hecRecorder) waitFor(ids []string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		got := h.received()
		var missing []string
		for _, id := range ids {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// metricValue sums the samples of a Prometheus metric whose labels contain
// every one of match (e.g. `outcome="signup"`).
func metricValue(text, name string, match ...string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	sum := 0.0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		ok := true
		for _, want := range match {
			if !strings.Contains(m[1], want) {
				ok = false
			}
		}
		if ok {
			v, err := strconv.ParseFloat(m[2], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

func fmtShares(counts []float64) string {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	var parts []string
	for _, c := range counts {
		parts = append(parts, fmt.Sprintf("%.0f (%.3f of even)", c, c/(total/float64(len(counts)))))
	}
	return strings.Join(parts, ", ")
}
