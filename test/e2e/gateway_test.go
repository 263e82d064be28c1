//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestAgentGateway runs config/agent.yaml twice (two nodes of a DaemonSet)
// in front of one config/gateway.yaml: the fleet layout with a single
// gateway. The same new users' first logins reach both agents at once, as
// a Service spreading Auth0's requests would make happen: the gateway,
// alone deciding, emits one SignUp per user.
func TestAgentGateway(t *testing.T) {
	f := newFleet(t, 1, 2)
	const users = 10
	var byAgent [2][]record
	for u := range users {
		user := fmt.Sprintf("auth0|gw%d", u)
		f.fake.AddUser(user, map[string]any{})
		for a := range byAgent {
			// Different log ids: two first logins of each user, one per agent.
			byAgent[a] = append(byAgent[a], loginRecord(auth0test.Event{LogID: fmt.Sprintf("gw-%d-%d", a, u), UserID: user, LoginsCount: 1}))
		}
	}
	var wg sync.WaitGroup
	var acked []string
	var mu sync.Mutex
	for a := range byAgent {
		wg.Go(func() {
			ids := f.post(a, byAgent[a])
			mu.Lock()
			acked = append(acked, ids...)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Empty(t, f.hec.waitFor(acked, 30*time.Second))

	signups, logins := map[string]int{}, map[string]int{}
	for _, e := range f.hec.snapshot() {
		switch e.Event {
		case "SignUp":
			signups[e.User]++
		case "Login":
			logins[e.User]++
		}
	}
	for u := range users {
		user := fmt.Sprintf("auth0|gw%d", u)
		assert.Equal(t, 1, signups[user], user)
		assert.Equal(t, 1, logins[user], user)
	}
	require.Eventually(t, func() bool { return len(f.patches()) == users }, 30*time.Second, 100*time.Millisecond)
	assert.Len(t, f.fake.Requests(http.MethodPatch, "/api/v2/users/"), users, "one update per user")

	for _, c := range append(f.agents, f.gateways...) {
		assert.Equal(t, 0, c.Terminate(2*time.Minute))
	}
	assertNoSecrets(t, f.agents[0].Output()+f.agents[1].Output()+f.gateways[0].Output(), FakeClientSecret, Secret)
}
