// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
)

var domainSeq atomic.Int64

// newTenant starts the fake Management API and a client for it. Each test
// gets its own domain, so that budgets are not shared between tests.
func newTenant(t *testing.T, mutate func(*Config), opts ...Option) (*fakeauth0.Server, *Client, Config) {
	t.Helper()
	domain := "tenant" + strconv.FormatInt(domainSeq.Add(1), 10) + ".example.auth0.com"
	fake := fakeauth0.New("cid", "csecret", "https://"+domain+"/api/v2/")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	cfg := NewDefaultConfig()
	cfg.Domain = domain
	cfg.ClientID = "cid"
	cfg.ClientSecret = "csecret"
	cfg.ClientConfig.Endpoint = srv.URL
	if mutate != nil {
		mutate(&cfg)
	}
	require.NoError(t, cfg.Validate())
	return fake, newClient(t, cfg, opts...), cfg
}

func newClient(t *testing.T, cfg Config, opts ...Option) *Client {
	t.Helper()
	c, err := New(context.Background(), cfg, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings(), opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestReadAndUpdateThroughGoAuth0(t *testing.T) {
	fake, c, _ := newTenant(t, nil)
	fake.AddUser("auth0|1", map[string]any{"plan": "gold"})
	ctx := context.Background()

	md, err := c.TryReadAppMetadata(ctx, "auth0|1")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"plan": "gold"}, md)

	require.NoError(t, c.SetAppMetadata(ctx, "auth0|1", map[string]any{"signedUp": true}))
	assert.Equal(t, map[string]any{"plan": "gold", "signedUp": true}, fake.AppMetadata("auth0|1"), "first-level merge keeps other keys")

	_, err = c.TryReadAppMetadata(ctx, "auth0|missing")
	assert.Equal(t, ClassNotFound, Classify(err))

	// One token for all calls; the user id is path-escaped on the wire.
	gets := fake.Requests(http.MethodGet, "/api/v2/users/")
	require.Len(t, gets, 2)
	assert.Equal(t, "auth0|1", gets[0].UserID)
}

func TestWrongCredentials(t *testing.T) {
	_, c, _ := newTenant(t, func(cfg *Config) { cfg.ClientSecret = "wrong" })
	err := c.SetAppMetadata(context.Background(), "auth0|1", map[string]any{"signedUp": true})
	require.Error(t, err)
	assert.Equal(t, ClassUnauthorized, Classify(err))
	assert.NotContains(t, err.Error(), "wrong", "the secret is not in the error")
}

func TestWrongAudienceIsUnauthorized(t *testing.T) {
	fake := fakeauth0.New("cid", "csecret", "https://other.example/api/v2/")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := NewDefaultConfig()
	cfg.Domain, cfg.ClientID, cfg.ClientSecret = "aud.example.auth0.com", "cid", "csecret"
	cfg.ClientConfig.Endpoint = srv.URL
	c, err := New(context.Background(), cfg, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.TryReadAppMetadata(context.Background(), "u")
	assert.Equal(t, ClassUnauthorized, Classify(err))
}

func TestClassify(t *testing.T) {
	assert.Equal(t, ClassOK, Classify(nil))
	assert.Equal(t, ClassRateLimited, Classify(ErrNoBudget))
	assert.Equal(t, ClassRetryable, Classify(context.DeadlineExceeded))
	assert.Equal(t, ClassRetryable, Classify(errors.New("connection refused")))
	for status, want := range map[int]Class{429: ClassRateLimited, 404: ClassNotFound, 401: ClassUnauthorized, 403: ClassUnauthorized, 500: ClassRetryable, 503: ClassRetryable, 408: ClassRetryable, 400: ClassPermanent} {
		assert.Equal(t, want, classifyStatus(status), status)
	}
}

// A hanging API costs the log path no more than its context allows.
func TestHangingAPIRespectsContext(t *testing.T) {
	fake, c, _ := newTenant(t, nil)
	fake.AddUser("u", nil)
	fake.SetHang(true)
	defer fake.SetHang(false)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.TryReadAppMetadata(ctx, "u")
	assert.Equal(t, ClassRetryable, Classify(err))
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, strings.Contains(err.Error(), "deadline") || strings.Contains(err.Error(), "canceled"), err.Error())
}
