// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build reliability

package reliability

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/binarytest"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// TestNoRequestWithoutTheSecret: wrong, missing, truncated, prefixed,
// differently cased and padded secrets are all refused with 401 and nothing
// reaches HEC; the right one, as is or as Bearer, goes through.
func TestNoRequestWithoutTheSecret(t *testing.T) {
	sink := startSink(t)
	c := start(t, collectorOptions{storage: t.TempDir(), hec: sink.URL()})
	refused := []string{
		"", "Bearer", "Bearer ", "Basic " + receiverSecret, receiverSecret[:len(receiverSecret)-1], receiverSecret + "x",
		strings.ToUpper(receiverSecret), " " + receiverSecret + "x", "Bearer " + receiverSecret + " extra", "Splunk " + receiverSecret,
	}
	for i := range 50 {
		refused = append(refused, fmt.Sprintf("Bearer %x", sha256.Sum256([]byte(strconv.Itoa(i)))))
	}
	for i, auth := range refused {
		for _, path := range []string{"/auth0/logs", "/auth0/actions"} {
			s := loadtest.NewSender("http://"+c.Receiver+path, auth)
			body := []byte(line(fmt.Sprintf("unauth-%d", i)))
			if path == "/auth0/actions" {
				body = auth0test.ActionEvent{EventID: fmt.Sprintf("unauth-%d", i)}.JSON()
			}
			r := s.Send(context.Background(), loadtest.Batch{Body: body})
			assert.Equal(t, http.StatusUnauthorized, r.Status, "Authorization %q on %s", auth, path)
		}
	}
	for _, auth := range []string{receiverSecret, "Bearer " + receiverSecret, "bearer " + receiverSecret} {
		s := loadtest.NewSender("http://"+c.Receiver+"/auth0/logs", auth)
		r := s.Send(context.Background(), loadtest.Batch{Body: []byte(line("auth-ok-" + auth[:3]))})
		assert.Equal(t, http.StatusOK, r.Status, auth)
	}
	require.Eventually(t, func() bool { return sink.Events() == 3 }, 30*time.Second, 100*time.Millisecond)
	time.Sleep(2 * time.Second)
	report(t, map[string]any{"refused_requests": 2 * len(refused), "accepted_requests": 3, "events_at_hec": sink.Events()})
	assert.Equal(t, int64(3), sink.Events(), "only the authenticated records arrived")
}

// TestPrivacyConfig: with config/privacy.yaml, names and emails reach
// Splunk hashed and IP addresses and user agents not at all, in both body
// shapes and in the HEC fields, even with those attributes opted in as
// index-time fields.
func TestPrivacyConfig(t *testing.T) {
	sink := startSink(t)
	sink.DecodeEvents, sink.KeepEvents = true, true
	const salt = "rel-pii-salt"
	c2 := start(t, collectorOptions{
		storage: t.TempDir(), hec: sink.URL(), env: map[string]string{"PII_HASH_SALT": salt},
		indexedFields: []string{"user.name", "client.address", "user_agent.original"},
		files:         []string{filepath.Join(binarytest.RepoRoot(t), "config", "privacy.yaml")},
	})
	s := c2.sender()
	r := s.Send(context.Background(), loadtest.Batch{Body: auth0test.Lines(
		auth0test.Event{LogID: "pii-1", Type: "s", UserName: "ana@example.com", IP: "203.0.113.7", LoginsCount: 1},
		auth0test.Event{LogID: "pii-2", Type: "fp", UserName: "ana@example.com", IP: "203.0.113.7"},
	)})
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Eventually(t, func() bool { return len(sink.Kept()) == 2 }, 30*time.Second, 100*time.Millisecond)

	hashed := sha256.Sum256([]byte("ana@example.com" + salt))
	wantHash := hex.EncodeToString(hashed[:])
	for _, ev := range sink.Kept() {
		text := fmt.Sprint(ev)
		assert.NotContains(t, text, "ana@example.com")
		assert.NotContains(t, text, "203.0.113.7")
		assert.NotContains(t, text, "Mozilla")
		assert.Contains(t, text, wantHash, "names are hashed, still joinable")
		fields := ev["fields"].(map[string]any)
		assert.Equal(t, wantHash, fields["user.name"])
		assert.NotContains(t, fields, "client.address")
	}
	report(t, map[string]any{"events_checked": len(sink.Kept()), "name_hash": wantHash[:12] + "..."})
}

// TestZSecretsNeverLeak runs last (by name): every configured secret is
// looked for in everything every collector of the suite printed, and in
// what a live collector serves on its metrics, zpages and pprof endpoints.
func TestZSecretsNeverLeak(t *testing.T) {
	_, fakeSrv := fakeTenant(t)
	sink := startSink(t)
	c := start(t, collectorOptions{storage: t.TempDir(), hec: sink.URL(), fake: fakeSrv})
	s := c.sender()
	s.Run(context.Background(), steady(loadtest.NewGenerator("leak"), 2*time.Second))
	// Wrong credentials put the Management API's error path in the logs too.
	r := loadtest.NewSender("http://"+c.Receiver+"/auth0/logs", "Bearer wrong").Send(context.Background(), loadtest.Batch{Body: []byte(line("leak-x"))})
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	served := []string{
		c.Scrape(),
		c.Get("http://" + c.ZPages + "/debug/servicez"),
		c.Get("http://" + c.ZPages + "/debug/pipelinez"),
		c.Get("http://" + c.ZPages + "/debug/extensionz"),
		c.Get("http://" + c.ZPages + "/debug/tracez"),
		c.Get("http://" + c.PProf + "/debug/pprof/cmdline"),
	}
	c.Terminate(time.Minute)
	outputs.Lock()
	texts := append(append([]string(nil), outputs.texts...), served...)
	outputs.Unlock()
	var scanned int
	for _, text := range texts {
		scanned += len(text)
		for _, secret := range []string{receiverSecret, hecToken, clientSecret} {
			assert.NotContains(t, text, secret)
		}
	}
	report(t, map[string]any{"texts": len(texts), "bytes_scanned": scanned, "secrets": 3})
}
