// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

// tenantsConfig is the several-tenants configuration, used alone.
const tenantsConfig = "config/tenants-example.yaml"

// sameUser is the user id both tenants have: Auth0 user ids are unique
// within a tenant only.
const sameUser = "auth0|6182f1a9c3d4e5f60718293a"

// tenant is one Auth0 tenant of the collector: its receiver's address and
// secret, and its own fake Management API, in process on loopback.
type tenant struct {
	t        testing.TB
	name     string // prod, staging: the component names' suffix
	domain   string
	secret   string
	endpoint string
	fake     *fakeauth0.Server
	apiURL   string
}

func newTenant(t testing.TB, name string) *tenant {
	tn := &tenant{
		t:        t,
		name:     name,
		domain:   "acme-" + name + ".eu.auth0.com",
		secret:   "e2e-" + name + "-receiver-secret-3b9e",
		endpoint: fmt.Sprintf("127.0.0.1:%d", childproc.FreePort()),
	}
	tn.fake = fakeauth0.New(tn.clientID(), tn.clientSecret(), "https://"+tn.domain+"/api/v2/")
	tn.fake.AddUser(sameUser, map[string]any{})
	srv := httptest.NewServer(tn.fake)
	t.Cleanup(srv.Close)
	tn.apiURL = srv.URL
	return tn
}

func (tn *tenant) clientID() string     { return "e2e-" + tn.name + "-client" }
func (tn *tenant) clientSecret() string { return "e2e-" + tn.name + "-client-secret-c41d" }

// tenantName is Auth0's name of the tenant, in every record it sends.
func (tn *tenant) tenantName() string { return "acme-" + tn.name }

// env is what config/tenants-example.yaml reads for this tenant.
func (tn *tenant) env() map[string]string {
	p := "AUTH0_" + strings.ToUpper(tn.name) + "_"
	return map[string]string{
		p + "RECEIVER_ENDPOINT": tn.endpoint,
		p + "RECEIVER_SECRET":   tn.secret,
		p + "DOMAIN":            tn.domain,
		p + "CLIENT_ID":         tn.clientID(),
		p + "CLIENT_SECRET":     tn.clientSecret(),
		p + "MANAGEMENT_URL":    tn.apiURL,
	}
}

// batch is a log stream batch of this tenant: the same user's signup and
// first login. The log ids are the same in every tenant too: the dedupe
// window is each receiver's own.
func (tn *tenant) batch() []byte {
	var out []byte
	for _, e := range []auth0test.Event{
		{LogID: "90020261120000000000000000000000000000000000000001", Type: "ss", UserID: sameUser},
		{LogID: "90020261120000000000000000000000000000000000000002", Type: "s", UserID: sameUser, LoginsCount: 1},
	} {
		rec := e.Record()
		data := rec["data"].(map[string]any)
		data["tenant_name"] = tn.tenantName()
		data["hostname"] = tn.domain
		line, err := json.Marshal(rec)
		require.NoError(tn.t, err)
		out = append(append(out, line...), '\n')
	}
	return out
}

// post sends body to the tenant's receiver with secret.
func (tn *tenant) post(secret string, body []byte) (int, string) {
	tn.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+tn.endpoint+"/auth0/logs", bytes.NewReader(body))
	require.NoError(tn.t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tn.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tn.t, err)
	return resp.StatusCode, string(b)
}

// patches counts the successful app_metadata updates per user.
func (tn *tenant) patches() map[string]int {
	n := map[string]int{}
	for _, r := range tn.fake.Requests(http.MethodPatch, "/api/v2/users/") {
		if r.Status == http.StatusOK {
			n[r.UserID]++
		}
	}
	return n
}

// startTenants runs the binary with config/tenants-example.yaml (and
// overlays) for these tenants, sending to hec.
func startTenants(t *testing.T, hec *LocalHEC, tenants []*tenant, overlays ...string) *binarytest.Collector {
	t.Helper()
	env := map[string]string{"SPLUNK_HEC_ENDPOINT": hec.URL(), "SPLUNK_HEC_TOKEN": HECToken}
	for _, tn := range tenants {
		for k, v := range tn.env() {
			env[k] = v
		}
	}
	return binarytest.Start(t, binarytest.Options{
		Configs:          append([]string{filepath.Join(repoRoot(t), tenantsConfig)}, overlays...),
		Env:              env,
		MoveDebugServers: true,
	})
}

// signUpsByTenant sends each tenant's batch, waits for what reaches
// Splunk, and counts the SignUps and Logins per auth0.tenant field.
func signUpsByTenant(t *testing.T, hec *LocalHEC, tenants []*tenant) map[string]map[string]int {
	t.Helper()
	for _, tn := range tenants {
		status, body := tn.post(tn.secret, tn.batch())
		require.Equal(t, http.StatusOK, status, body)
		assert.JSONEq(t, `{"accepted":2,"duplicates":0,"filtered":0,"rejected":0}`, body, "tenant %s", tn.name)
	}
	got := map[string]map[string]int{}
	for _, ev := range waitHECEvents(t, hec, 2*len(tenants)) {
		tenantField, _ := ev.Fields["auth0.tenant"].(string)
		event, _ := ev.Fields["auth0.event"].(string)
		if got[tenantField] == nil {
			got[tenantField] = map[string]int{}
		}
		got[tenantField][event]++
	}
	return got
}

// TestSeveralTenants runs two Auth0 tenants in one collector with
// config/tenants-example.yaml: the same user id in both is a new user in
// each, so each tenant gets its own SignUp, and each tenant's Management
// API marks its own user.
func TestSeveralTenants(t *testing.T) {
	hec := StartHEC(t)
	prod, staging := newTenant(t, "prod"), newTenant(t, "staging")
	c := startTenants(t, hec, []*tenant{prod, staging})

	// A tenant's secret opens only its own receiver.
	status, body := staging.post(prod.secret, staging.batch())
	require.Equal(t, http.StatusUnauthorized, status, body)

	got := signUpsByTenant(t, hec, []*tenant{prod, staging})
	assert.Equal(t, map[string]map[string]int{
		"acme-prod":    {"SignUp": 1, "Login": 1},
		"acme-staging": {"SignUp": 1, "Login": 1},
	}, got, "one SignUp per tenant, told apart by the auth0.tenant field")

	for _, tn := range []*tenant{prod, staging} {
		require.Eventually(t, func() bool { return tn.patches()[sameUser] == 1 }, 30*time.Second, 100*time.Millisecond, "tenant %s marks its user", tn.name)
		assert.Equal(t, map[string]any{"signedUp": true}, tn.fake.AppMetadata(sameUser), "tenant %s", tn.name)
	}

	// Each signup processor has its own file in the one file_storage.
	entries, err := os.ReadDir(c.Storage)
	require.NoError(t, err)
	var stores []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "processor_signup_") {
			stores = append(stores, e.Name())
		}
	}
	assert.ElementsMatch(t, []string{"processor_signup_prod", "processor_signup_staging"}, stores)

	// The user signs in again in each tenant: Logins, no new SignUp.
	for _, tn := range []*tenant{prod, staging} {
		e := auth0test.Event{LogID: "90020261120000000000000000000000000000000000000003", Type: "s", UserID: sameUser, LoginsCount: 2}
		status, body := tn.post(tn.secret, e.JSON())
		require.Equal(t, http.StatusOK, status, body)
	}
	events := waitHECEvents(t, hec, 6)
	signUps := 0
	for _, ev := range events {
		if ev.Fields["auth0.event"] == "SignUp" {
			signUps++
		}
	}
	assert.Equal(t, 2, signUps)
	time.Sleep(time.Second)
	for _, tn := range []*tenant{prod, staging} {
		assert.Equal(t, map[string]int{sameUser: 1}, tn.patches(), "tenant %s: one update", tn.name)
	}
	require.Equal(t, 0, c.Terminate(time.Minute))
	assertNoSecrets(t, c.Output(), prod.secret, staging.secret, prod.clientSecret(), staging.clientSecret(), HECToken)
}

// TestSeveralTenantsSharedRedis: the same with both tenants' claims in one
// Redis, keyed by each processor's tenant (its management_api.domain).
func TestSeveralTenantsSharedRedis(t *testing.T) {
	redis := redistest.Start(t)
	hec := StartHEC(t)
	prod, staging := newTenant(t, "prod"), newTenant(t, "staging")
	var overlays []string
	for _, tn := range []*tenant{prod, staging} {
		overlays = append(overlays, fmt.Sprintf("yaml:processors::signup/%s::redis: {endpoint: %q, tls: {insecure: true}}", tn.name, redis.Addr()))
	}
	c := startTenants(t, hec, []*tenant{prod, staging}, overlays...)

	got := signUpsByTenant(t, hec, []*tenant{prod, staging})
	assert.Equal(t, map[string]map[string]int{
		"acme-prod":    {"SignUp": 1, "Login": 1},
		"acme-staging": {"SignUp": 1, "Login": 1},
	}, got, "one SignUp per tenant in one Redis")

	client := redis.Client()
	defer client.Close()
	for _, tn := range []*tenant{prod, staging} {
		key := "otelcol-auth0:{" + tn.domain + "}:signup:" + sameUser
		n, err := client.Exists(context.Background(), key).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "the claim %s", key)
		require.Eventually(t, func() bool { return tn.patches()[sameUser] == 1 }, 30*time.Second, 100*time.Millisecond, "tenant %s marks its user", tn.name)
	}
	require.Equal(t, 0, c.Terminate(time.Minute))
}

// TestTenantsConfigSharesTheShippedSetup keeps config/tenants-example.yaml's
// shared parts identical to otelcol-config.yaml's.
func TestTenantsConfigSharesTheShippedSetup(t *testing.T) {
	load := func(name string) *confmap.Conf {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), name))
		require.NoError(t, err)
		r, err := confmap.NewRetrievedFromYAML(b)
		require.NoError(t, err)
		conf, err := r.AsConf()
		require.NoError(t, err)
		return conf
	}
	shipped, tenants := load("otelcol-config.yaml"), load(tenantsConfig)
	for _, key := range []string{
		"extensions", "connectors", "exporters",
		"processors::memory_limiter", "processors::transform/hec_fields",
		"service::extensions", "service::telemetry", "service::pipelines::logs/splunk",
	} {
		assert.Equal(t, shipped.Get(key), tenants.Get(key), "%s differs from otelcol-config.yaml's", key)
	}
	// Every tenant's signup processor is the shipped one with its own
	// Management API variables.
	for _, name := range []string{"prod", "staging"} {
		want := strings.ReplaceAll(fmt.Sprint(shipped.Get("processors::signup")), "AUTH0_", "AUTH0_"+strings.ToUpper(name)+"_")
		assert.Equal(t, want, fmt.Sprint(tenants.Get("processors::signup/"+name)))
	}
}
