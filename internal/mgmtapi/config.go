// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package mgmtapi is the collector's way to the Auth0 Management API: the
// go-auth0 client with client-credentials auth, an optional base URL
// override (a proxy, or a local test server over plain http), and one rate
// budget per tenant shared by every component of the process that calls it
// (or, with WithSharedLimiter and a RedisLimiter, by every replica), which
// pauses everyone when Auth0 answers 429 until its x-ratelimit-reset.
package mgmtapi // import "github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
)

// Config says how to reach one tenant's Management API.
type Config struct {
	// Domain is the tenant's domain, e.g. "acme.eu.auth0.com". It names the
	// token audience (https://<domain>/api/v2/) even when Endpoint is set.
	Domain       string              `mapstructure:"domain"`
	ClientID     string              `mapstructure:"client_id"`
	ClientSecret configopaque.String `mapstructure:"client_secret"`

	// ClientConfig is the HTTP client (timeout, TLS, proxy). Its endpoint,
	// when set, replaces https://<domain> as the base URL: scheme and host
	// only, http allowed.
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	RateLimit RateLimitConfig `mapstructure:"rate_limit"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RateLimitConfig is the token bucket of calls to the tenant. Components of
// one process that reach the same domain share one budget (the lowest of
// their settings); with a RedisLimiter it is the budget of all replicas
// together.
type RateLimitConfig struct {
	// Writes is PATCH /api/v2/users/{id}.
	WritesPerSecond float64 `mapstructure:"writes_per_second"`
	WriteBurst      int     `mapstructure:"write_burst"`
	// Reads is GET /api/v2/users/{id} and GET /api/v2/logs.
	ReadsPerSecond float64 `mapstructure:"reads_per_second"`
	ReadBurst      int     `mapstructure:"read_burst"`
}

// NewDefaultConfig stays inside the Essentials and Professional plans'
// limits ("write users" 200/min burst 20, "read users" 500/min burst 40),
// leaving room for the tenant's other clients. A Free tenant (2/s for the
// whole API) needs writes_per_second + reads_per_second <= 2.
func NewDefaultConfig() Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 10 * time.Second
	return Config{
		ClientConfig: client,
		RateLimit: RateLimitConfig{
			WritesPerSecond: 3,
			WriteBurst:      10,
			ReadsPerSecond:  5,
			ReadBurst:       20,
		},
	}
}

// Enabled reports whether credentials are configured. All or none of
// domain, client_id and client_secret must be set; Validate checks that.
func (c *Config) Enabled() bool {
	return c.Domain != "" && c.ClientID != "" && c.ClientSecret != ""
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	set := map[string]bool{"domain": c.Domain != "", "client_id": c.ClientID != "", "client_secret": c.ClientSecret != ""}
	if set["domain"] || set["client_id"] || set["client_secret"] {
		var missing []string
		for _, k := range []string{"domain", "client_id", "client_secret"} {
			if !set[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("the Management API credentials are incomplete, %s missing: set domain, client_id and client_secret together, or none of them", strings.Join(missing, ", ")))
		}
	}
	if c.Domain != "" && (strings.Contains(c.Domain, "/") || strings.Contains(c.Domain, " ")) {
		errs = append(errs, fmt.Errorf(`"domain" must be a bare host name like "acme.eu.auth0.com", got %q`, c.Domain))
	}
	if c.ClientConfig.Endpoint != "" {
		u, err := url.Parse(c.ClientConfig.Endpoint)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf(`"endpoint" is not a URL: %w`, err))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, fmt.Errorf(`"endpoint" must be an http:// or https:// URL, got %q`, c.ClientConfig.Endpoint))
		case u.Host == "":
			errs = append(errs, fmt.Errorf(`"endpoint" has no host: %q`, c.ClientConfig.Endpoint))
		case strings.Trim(u.Path, "/") != "" || u.RawQuery != "":
			errs = append(errs, fmt.Errorf(`"endpoint" must be scheme and host only (the API paths are fixed), got %q`, c.ClientConfig.Endpoint))
		}
	}
	r := c.RateLimit
	if r.WritesPerSecond <= 0 || r.ReadsPerSecond <= 0 {
		errs = append(errs, fmt.Errorf(`"rate_limit" rates must be positive, got writes_per_second %v, reads_per_second %v`, r.WritesPerSecond, r.ReadsPerSecond))
	}
	if r.WriteBurst < 1 || r.ReadBurst < 1 {
		errs = append(errs, fmt.Errorf(`"rate_limit" bursts must be at least 1, got write_burst %d, read_burst %d`, r.WriteBurst, r.ReadBurst))
	}
	return errors.Join(errs...)
}

// baseURL is where requests go: the endpoint override or the tenant.
func (c *Config) baseURL() *url.URL {
	if c.ClientConfig.Endpoint != "" {
		if u, err := url.Parse(c.ClientConfig.Endpoint); err == nil {
			return u
		}
	}
	return &url.URL{Scheme: "https", Host: c.Domain}
}
