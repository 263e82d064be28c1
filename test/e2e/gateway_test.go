//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestAgentGateway runs config/agent.yaml twice (two nodes of a DaemonSet)
// in front of one config/gateway.yaml. The same new users' first logins
// reach both agents at once, as a Service spreading Auth0's requests would
// make happen: the gateway, alone deciding, emits one SignUp per user.
func TestAgentGateway(t *testing.T) {
	fake := StartFakeAuth0(t)
	hec := StartHEC(t)
	const token = "e2e-gateway-token-1d8e"
	gatewayAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := fake.Env()
	env["OTELCOL_GATEWAY_LISTEN"] = gatewayAddr
	env["OTELCOL_GATEWAY_TOKEN"] = token
	gateway := StartCollector(t, Options{Config: "config/gateway.yaml", HECEndpoint: hec.URL(), Env: env})

	agentEnv := map[string]string{"OTELCOL_GATEWAY_ENDPOINT": "http://" + gatewayAddr, "OTELCOL_GATEWAY_TOKEN": token}
	agents := []*Collector{
		StartCollector(t, Options{Config: "config/agent.yaml", Env: agentEnv}),
		StartCollector(t, Options{Config: "config/agent.yaml", Env: agentEnv}),
	}

	const users = 10
	for u := range users {
		fake.AddUser(fmt.Sprintf("auth0|gw%d", u), map[string]any{})
	}
	var wg sync.WaitGroup
	for i, agent := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var events []auth0test.Event
			for u := range users {
				// Different log ids: two first logins of each user, one per agent.
				events = append(events, auth0test.Event{LogID: fmt.Sprintf("gw-%d-%d", i, u), UserID: fmt.Sprintf("auth0|gw%d", u), LoginsCount: 1})
			}
			status, body := agent.Post("/auth0/logs", auth0test.Lines(events...))
			assert.Equal(t, http.StatusOK, status, body)
		}()
	}
	wg.Wait()

	records := hec.WaitHECRecords(2*users, 30*time.Second)
	signups, logins := map[string]int{}, map[string]int{}
	for _, lr := range records {
		switch attr(lr, "auth0.event") {
		case "SignUp":
			signups[userID(lr)]++
		case "Login":
			logins[userID(lr)]++
		}
	}
	for u := range users {
		user := fmt.Sprintf("auth0|gw%d", u)
		assert.Equal(t, 1, signups[user], user)
		assert.Equal(t, 1, logins[user], user)
	}
	require.Eventually(t, func() bool { return len(fake.Calls(http.MethodPatch)) == users }, 30*time.Second, 100*time.Millisecond)

	for _, c := range append(agents, gateway) {
		assert.Equal(t, 0, c.Stop(syscall.SIGTERM, 60*time.Second))
	}
	assertNoSecrets(t, agents[0].Output()+agents[1].Output()+gateway.Output(), token, FakeClientSecret, Secret)
}
