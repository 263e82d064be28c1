// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// Updates a previous run left pending are all resumed, one per user, and
// written without reading the user first: the user already marked is
// written again (a merge that changes nothing), the one whose claim was
// never confirmed is marked too, and a second entry of one user is sent
// once.
func TestResumedUpdatesAreWrittenWithoutReads(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|marked", map[string]any{"signedUp": true, "plan": "pro"})
	e.fake.AddUser("auth0|unconfirmed", map[string]any{})
	e.fake.AddUser("auth0|twice", map[string]any{})
	e.writeStorage(
		storage.SetOperation(userKey("auth0|marked"), []byte(`{"s":true,"k":true,"r":"9","c":true}`)),
		storage.SetOperation(userKey("auth0|unconfirmed"), []byte(`{"s":true,"k":true,"r":"10"}`)),
		storage.SetOperation(updateKey(0), []byte("auth0|marked")),
		storage.SetOperation(updateKey(1), []byte("auth0|unconfirmed")),
		storage.SetOperation(updateKey(2), []byte("auth0|twice")),
		storage.SetOperation(updateKey(3), []byte("auth0|twice")),
		storage.SetOperation(keyUpdateTail, []byte("4")),
	)
	e.start(e.config())
	e.waitUpdatesCounted(updateOK, 3)
	assert.Equal(t, map[string]int{"auth0|marked": 1, "auth0|unconfirmed": 1, "auth0|twice": 1}, e.patches())
	assert.Empty(t, e.fake.Requests(http.MethodGet, "/api/v2/users/"), "no read before a write")
	assert.Equal(t, map[string]any{"signedUp": true, "plan": "pro"}, e.fake.AppMetadata("auth0|marked"))
	assert.Equal(t, map[string]any{"signedUp": true}, e.fake.AppMetadata("auth0|unconfirmed"))

	// Applied updates are gone from storage: a restart sends nothing.
	e.stop()
	e.start(e.config())
	e.stop()
	assert.Len(t, e.fake.Requests(http.MethodPatch, "/api/v2/users/"), 3)
}

// A run can leave the stored head above the stored tail: a batch's
// reservations move the tail in memory, their write fails (the batch is
// refused and its reservations released), and a later write of the head
// advances it past those places, whose tail never reached storage. The next
// run must place its updates at or above that head, or they are stored
// where no later run looks for them, and the user is never marked.
func TestUpdatesPlacedAfterAStoredHeadAboveTheTailAreResumed(t *testing.T) {
	e := newEnv(t).withStorage()
	e.fake.AddUser("auth0|new", map[string]any{})
	e.writeStorage(
		storage.SetOperation(keyUpdateHead, []byte("9")),
		storage.SetOperation(keyUpdateTail, []byte("7")),
	)
	cfg := e.config()
	cfg.Updates.DrainTimeout = 0
	e.fake.SetHang(true)
	e.start(cfg)
	require.NoError(t, e.consume(auth0test.Lines(ev{LogID: "s1", UserID: "auth0|new", Type: "ss"})))
	assert.Equal(t, map[string]int{"auth0|new": 1}, e.countEvents(auth0event.EventSignUp))
	e.stop() // the update is left for the next start
	e.fake.SetHang(false)

	e.start(e.config())
	e.waitPatched("auth0|new")
	assert.Equal(t, map[string]int{"auth0|new": 1}, e.patches())
}
