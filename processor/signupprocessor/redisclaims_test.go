// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/redistest"
)

// The settle script sets absent claims and answers held ones, and queues
// no update: a claim's record may never be delivered as the SignUp.
func TestRedisClaimsSettle(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	claims := newRedisClaims(client, "otelcol-auth0", "acme.eu.auth0.com", true, time.Hour)

	first := []signupIdentity{{User: "auth0|1", Record: "r1"}, {User: "auth0|2", Login: "auth0|2#1", ByAction: true}}
	answers, err := claims.settle(ctx, claimRequests(first...))
	require.NoError(t, err)
	assert.Equal(t, []settleAnswer{{}, {}}, answers, "absent claims are set")

	answers, err = claims.settle(ctx, claimRequests(signupIdentity{User: "auth0|2", Record: "other"}, signupIdentity{User: "auth0|3", Record: "r3"}, signupIdentity{User: "auth0|1", Record: "r1"}))
	require.NoError(t, err)
	require.Len(t, answers, 3)
	held := []*signupIdentity{answers[0].held, answers[1].held, answers[2].held}
	assert.Equal(t, &signupIdentity{User: "auth0|2", Login: "auth0|2#1", ByAction: true}, held[0], "a held claim is answered with its holder")
	assert.Nil(t, held[1])
	assert.Equal(t, &signupIdentity{User: "auth0|1", Record: "r1"}, held[2], "the same record asking again gets its own claim back, held")
	assert.Empty(t, streamUsers(t, claims), "no update before a claim is confirmed")
}

// Confirming flags a claim without changing its identity and queues its
// user's update, once however often and by whichever replica it is
// confirmed; a claim another record holds is neither changed nor updated.
func TestRedisClaimsConfirm(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	claims := newRedisClaims(client, "otelcol-auth0", "acme.eu.auth0.com", true, time.Hour)
	_, err := claims.settle(ctx, claimRequests(signupIdentity{User: "auth0|1", Record: "r1"}, signupIdentity{User: "auth0|2", Login: "auth0|2#1", ByAction: true}, signupIdentity{User: "auth0|3", Record: "r3"}))
	require.NoError(t, err)

	require.NoError(t, claims.confirm(ctx, []signupIdentity{{User: "auth0|3", Record: "r3"}, {User: "auth0|2", Record: "not the holder"}}))
	raw, err := client.Get(ctx, "otelcol-auth0:{acme.eu.auth0.com}:signup:auth0|3").Bytes()
	require.NoError(t, err, "keys carry the tenant as their hash tag")
	var stored signupIdentity
	require.NoError(t, json.Unmarshal(raw, &stored))
	assert.Equal(t, signupIdentity{Record: "r3", Confirmed: true}, stored)
	held, err := claims.peek(ctx, []string{"auth0|3", "auth0|2", "auth0|1"})
	require.NoError(t, err)
	assert.True(t, held[0].Confirmed, "a confirmed claim says so to every replica")
	assert.Equal(t, &signupIdentity{User: "auth0|2", Login: "auth0|2#1", ByAction: true}, held[1], "a claim another record holds is left as it is")
	assert.False(t, held[2].Confirmed)
	assert.Equal(t, []string{"auth0|3"}, streamUsers(t, claims))

	require.NoError(t, claims.confirm(ctx, []signupIdentity{{User: "auth0|3", Record: "r3"}, {User: "auth0|2", Login: "auth0|2#1", ByAction: true}}))
	assert.Equal(t, []string{"auth0|3", "auth0|2"}, streamUsers(t, claims), "a claim confirmed again queues no second update")

	// A claim absent at confirmation (decided while Redis did not answer,
	// or lost with its data) is written confirmed, and updated.
	require.NoError(t, claims.confirm(ctx, []signupIdentity{{User: "auth0|4", Record: "r4"}}))
	held, err = claims.peek(ctx, []string{"auth0|4"})
	require.NoError(t, err)
	assert.Equal(t, &signupIdentity{User: "auth0|4", Record: "r4", Confirmed: true}, held[0])
	assert.Equal(t, []string{"auth0|3", "auth0|2", "auth0|4"}, streamUsers(t, claims))
}

// A Login registered for a record makes a later claim of that record lose,
// and a claim already held makes a later Login registration learn it: the
// two orders of two replicas deciding one record two ways. The registration
// expires, and leaves the user's claim alone.
func TestRedisClaimsLoginRegistrations(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	claims := newRedisClaims(client, "otelcol-auth0", "acme.eu.auth0.com", true, 1500*time.Millisecond)

	answers, err := claims.settle(ctx, []settleRequest{
		{identity: signupIdentity{User: "auth0|1", Record: "r1"}, login: true},
		{identity: signupIdentity{User: "auth0|2", Record: "r2"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []settleAnswer{{}, {}}, answers, "a Login registered, a claim set")
	ttl, err := client.PTTL(ctx, "otelcol-auth0:{acme.eu.auth0.com}:login:r1").Result()
	require.NoError(t, err)
	assert.InDelta(t, 1500, ttl.Milliseconds(), 500, "the registration lives for the time configured")

	time.Sleep(700 * time.Millisecond)
	answers, err = claims.settle(ctx, []settleRequest{
		{identity: signupIdentity{User: "auth0|1", Record: "r1", Login: "auth0|1#3"}},
		{identity: signupIdentity{User: "auth0|1", Record: "r1-other"}, login: true},
		{identity: signupIdentity{User: "auth0|2", Record: "r2-login"}, login: true},
		{identity: signupIdentity{User: "auth0|3", Record: "r3"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []settleAnswer{
		{loginElsewhere: true},
		{},
		{held: &signupIdentity{User: "auth0|2", Record: "r2"}},
		{},
	}, answers, "a claim of a record registered as a Login loses to it; a Login of a user with a claim learns the claim")
	held, err := claims.peek(ctx, []string{"auth0|1"})
	require.NoError(t, err)
	assert.Nil(t, held[0], "a claim that lost to a Login sets nothing")
	ttl, err = client.PTTL(ctx, "otelcol-auth0:{acme.eu.auth0.com}:login:r1").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl.Milliseconds(), int64(1100), "a claim that lost to a Login renews it: its replica delivers a Login too")
	n, err := client.Exists(ctx, "otelcol-auth0:{acme.eu.auth0.com}:login:r2-login").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "no Login is registered for a user who holds a claim")

	answers, err = claims.settle(ctx, claimRequests(signupIdentity{User: "auth0|1", Record: "r1-next"}))
	require.NoError(t, err)
	assert.Equal(t, []settleAnswer{{}}, answers, "another record of the user may still claim")

	require.Eventually(t, func() bool {
		n, err := client.Exists(ctx, "otelcol-auth0:{acme.eu.auth0.com}:login:r1").Result()
		return err == nil && n == 0
	}, 5*time.Second, 50*time.Millisecond, "the registration expires")
}

// claimRequests makes a claim request of each identity.
func claimRequests(ids ...signupIdentity) []settleRequest {
	reqs := make([]settleRequest, len(ids))
	for i, id := range ids {
		reqs[i] = settleRequest{identity: id}
	}
	return reqs
}

func streamUsers(t *testing.T, claims *redisClaims) []string {
	t.Helper()
	entries, err := claims.client.XRange(context.Background(), claims.updateStream(), "-", "+").Result()
	require.NoError(t, err)
	var users []string
	for _, e := range entries {
		users = append(users, e.Values["user"].(string))
	}
	return users
}

// Without a Management API nothing consumes the stream: no update is queued.
func TestRedisClaimsWithoutUpdates(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	claims := newRedisClaims(client, "p", "t", false, time.Hour)
	_, err := claims.settle(ctx, claimRequests(signupIdentity{User: "u", Record: "r"}))
	require.NoError(t, err)
	require.NoError(t, claims.confirm(ctx, []signupIdentity{{User: "u", Record: "r"}}))
	n, err := client.Exists(ctx, claims.updateStream()).Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// A value that is no claim (written by something else under our prefix)
// is an error that names the key, not a guess.
func TestRedisClaimsUnreadableValue(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	claims := newRedisClaims(client, "p", "t", false, time.Hour)
	require.NoError(t, client.Set(ctx, claims.claimKey("u"), "not json", 0).Err())
	_, err := claims.settle(ctx, claimRequests(signupIdentity{User: "u", Record: "r"}))
	require.ErrorContains(t, err, claims.claimKey("u"))
}

// A server that is down answers an error within the caller's deadline.
func TestRedisClaimsServerDown(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	srv.Kill()
	claims := newRedisClaims(client, "p", "t", false, time.Hour)
	_, err := claims.settle(context.Background(), claimRequests(signupIdentity{User: "u", Record: "r"}))
	require.Error(t, err)
}
