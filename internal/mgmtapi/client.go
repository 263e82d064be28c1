// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package mgmtapi // import "github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"

	"github.com/auth0/go-auth0/management"
	"go.opentelemetry.io/collector/component"
	"golang.org/x/oauth2"
)

// ErrNoBudget is returned by the Try* calls when the tenant's budget has no
// room right now (rate limit reached, or paused after a 429).
var ErrNoBudget = errors.New("no Management API budget right now")

// Client calls one tenant's Management API within its shared budget.
type Client struct {
	api     *management.Management
	budget  *budget
	limiter Limiter
	domain  string
	http    *http.Client
}

// Option changes how New builds a Client.
type Option func(*options)

type options struct {
	limiter Limiter
}

// WithSharedLimiter spends the client's reads and writes through l (a
// RedisLimiter shared by every replica) instead of this process's token
// buckets. The pause after a 429 still applies.
func WithSharedLimiter(l Limiter) Option {
	return func(o *options) { o.limiter = l }
}

// New builds a client from cfg; cfg must be Enabled. The token is fetched
// lazily, on the first call, so a wrong secret shows up as call errors
// rather than preventing the collector from starting.
func New(ctx context.Context, cfg Config, host component.Host, set component.TelemetrySettings, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	httpClient, err := cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), set)
	if err != nil {
		return nil, err
	}
	base := cfg.baseURL()
	b := acquireBudget(cfg.Domain, cfg.RateLimit)
	httpClient.Transport = &transport{base: httpClient.Transport, plainHTTP: base.Scheme == "http", budget: b}

	// The token source keeps this context for its whole life, so it must
	// not be the (short) Start context; it carries our HTTP client so that
	// token requests get the same TLS, proxy and base URL handling.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, httpClient)
	api, err := management.New(base.Host,
		management.WithClientCredentialsAndAudience(tokenCtx, cfg.ClientID, string(cfg.ClientSecret), "https://"+cfg.Domain+"/api/v2/"),
		management.WithClient(httpClient),
		// Retries are ours: the log path must not block in the SDK's sleeps.
		management.WithNoRetries(),
		management.WithUserAgent("otelcol-auth0"),
	)
	if err != nil {
		releaseBudget(cfg.Domain)
		return nil, err
	}
	limiter := o.limiter
	if limiter == nil {
		limiter = b.local
	}
	return &Client{api: api, budget: b, limiter: limiter, domain: cfg.Domain, http: httpClient}, nil
}

// Close releases the client's share of the budget and its connections.
func (c *Client) Close() {
	releaseBudget(c.domain)
	c.http.CloseIdleConnections()
}

// TryReadAppMetadata reads a user's app_metadata if the budget allows a
// read right now, and returns ErrNoBudget otherwise. A user without
// app_metadata reads as an empty map.
func (c *Client) TryReadAppMetadata(ctx context.Context, userID string) (map[string]any, error) {
	if !c.budget.try(ctx, c.limiter, KindRead) {
		return nil, ErrNoBudget
	}
	return c.readAppMetadata(ctx, userID)
}

// ReadAppMetadata reads a user's app_metadata, waiting for the read
// budget: for work off the log path.
func (c *Client) ReadAppMetadata(ctx context.Context, userID string) (map[string]any, error) {
	if err := c.budget.wait(ctx, c.limiter, KindRead); err != nil {
		return nil, err
	}
	return c.readAppMetadata(ctx, userID)
}

func (c *Client) readAppMetadata(ctx context.Context, userID string) (map[string]any, error) {
	u, err := c.api.User.Read(ctx, userID, management.IncludeFields("app_metadata"))
	if err != nil {
		return nil, err
	}
	if u.AppMetadata == nil {
		return map[string]any{}, nil
	}
	return *u.AppMetadata, nil
}

// SetAppMetadata merges values into a user's app_metadata (Auth0 merges
// the first level), waiting for the write budget.
func (c *Client) SetAppMetadata(ctx context.Context, userID string, values map[string]any) error {
	if err := c.budget.wait(ctx, c.limiter, KindWrite); err != nil {
		return err
	}
	// go-auth0 decodes the answer into the user it sent: a copy keeps the
	// caller's map as it was, and safe to share between goroutines.
	md := make(map[string]any, len(values))
	maps.Copy(md, values)
	return c.api.User.Update(ctx, userID, &management.User{AppMetadata: &md})
}

// ListLogs reads up to take log events newer than the checkpoint log id
// from, in log_id order, waiting for the read budget. Each event is its raw
// JSON, so that fields go-auth0's Log type does not know are kept.
func (c *Client) ListLogs(ctx context.Context, from string, take int) ([]json.RawMessage, error) {
	return c.logs(ctx, management.From(from), management.Take(take))
}

// LogsByDate reads the first n log events sorted by date, oldest first
// (ascending) or newest first: where a checkpoint starts when it has none.
func (c *Client) LogsByDate(ctx context.Context, ascending bool, n int) ([]json.RawMessage, error) {
	sort := "date:-1"
	if ascending {
		sort = "date:1"
	}
	return c.logs(ctx, management.Parameter("sort", sort), management.PerPage(n), management.Page(0))
}

func (c *Client) logs(ctx context.Context, opts ...management.RequestOption) ([]json.RawMessage, error) {
	if err := c.budget.wait(ctx, c.limiter, KindRead); err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	err := c.api.Request(ctx, http.MethodGet, c.api.URI("logs"), &raw, opts...)
	return raw, err
}

// Class is what a caller should do about an error.
type Class int

const (
	ClassOK Class = iota
	// ClassRateLimited: wait for the budget (already paused) and retry.
	ClassRateLimited
	// ClassNotFound: the user (or log) does not exist; retrying cannot help.
	ClassNotFound
	// ClassUnauthorized: the credentials are wrong or lack a scope.
	ClassUnauthorized
	// ClassRetryable: a transport error, timeout or server error.
	ClassRetryable
	// ClassPermanent: the request itself was refused.
	ClassPermanent
)

func (c Class) String() string {
	return [...]string{"ok", "rate_limited", "not_found", "unauthorized", "retryable", "permanent"}[c]
}

// Classify sorts an error of a Client call.
func Classify(err error) Class {
	if err == nil {
		return ClassOK
	}
	if errors.Is(err, ErrNoBudget) {
		return ClassRateLimited
	}
	var apiErr management.Error
	if errors.As(err, &apiErr) {
		return classifyStatus(apiErr.Status())
	}
	var tokenErr *oauth2.RetrieveError
	if errors.As(err, &tokenErr) && tokenErr.Response != nil {
		if c := classifyStatus(tokenErr.Response.StatusCode); c != ClassPermanent && c != ClassNotFound {
			return c
		}
		return ClassUnauthorized
	}
	// Transport errors, timeouts, unreadable answers.
	return ClassRetryable
}

func classifyStatus(status int) Class {
	switch {
	case status == http.StatusTooManyRequests:
		return ClassRateLimited
	case status == http.StatusNotFound:
		return ClassNotFound
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ClassUnauthorized
	case status == http.StatusRequestTimeout || status >= 500:
		return ClassRetryable
	default:
		return ClassPermanent
	}
}
