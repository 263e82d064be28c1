// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestPullMode runs the binary with config/pull.yaml: it reads the fake
// tenant's log API from the oldest event, tags and delivers, marks new
// users, and after a restart resumes from its checkpoint.
func TestPullMode(t *testing.T) {
	fake := StartFakeAuth0(t)
	hec := StartHEC(t)
	fake.AddUser("auth0|pull-new", map[string]any{})
	fake.AddUser("auth0|pull-returning", map[string]any{"signedUp": true})
	logID := func(i int) string { return fmt.Sprintf("900202611200813%041d", i) }
	var events []map[string]any
	for i := 1; i <= 150; i++ {
		user := "auth0|pull-returning"
		if i == 1 {
			user = "auth0|pull-new"
		}
		events = append(events, auth0test.Event{LogID: logID(i), UserID: user, LoginsCount: 2}.Data())
	}
	fake.AddLogs(events...)

	storage := t.TempDir()
	env := fake.Env()
	env["AUTH0_POLL_START"] = "oldest"
	env["AUTH0_POLL_INTERVAL"] = "1s"
	opts := Options{HECEndpoint: hec.URL(), Storage: storage, Env: env, Configs: []string{filepath.Join(repoRoot(t), "config", "pull.yaml")}}
	c := StartCollector(t, opts)
	records := hec.WaitHECRecords(150, 60*time.Second)
	signups := 0
	for _, lr := range records {
		if attr(lr, "auth0.event") == "SignUp" {
			signups++
			assert.Equal(t, "auth0|pull-new", userID(lr))
		}
		assert.Equal(t, "log_api", attr(lr, "auth0.source"))
	}
	assert.Equal(t, 1, signups)
	require.Eventually(t, func() bool { return fake.Calls(http.MethodPatch)["auth0|pull-new"] == 1 }, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, 0, c.Terminate(time.Minute))

	// More events while it is down; the restart reads only those.
	var later []map[string]any
	for i := 151; i <= 160; i++ {
		later = append(later, auth0test.Event{LogID: logID(i), UserID: "auth0|pull-returning", LoginsCount: 3}.Data())
	}
	fake.AddLogs(later...)
	again := StartCollector(t, opts)
	hec.WaitHECRecords(160, 60*time.Second)
	time.Sleep(2 * time.Second)
	assert.Len(t, hec.HECRecords(), 160, "nothing read twice")
	require.Equal(t, 0, again.Terminate(time.Minute))
	assertNoSecrets(t, c.Output()+again.Output(), FakeClientSecret)
}
