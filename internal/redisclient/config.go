// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package redisclient is the collector's way to a Redis-protocol server
// (Redis 7, Valkey, ElastiCache, Memorystore, Azure Cache): one
// configuration that names a single server, a Sentinel-watched primary or
// a Cluster, with an ACL user or a password and TLS, turned into a go-redis
// client.
package redisclient // import "github.com/otelcol-auth0/otelcol-auth0/internal/redisclient"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"
)

// Config says how to reach the server.
type Config struct {
	// Endpoint is host:port. Several, comma-separated, are the seeds of a
	// Cluster, or the Sentinels when MasterName is set.
	Endpoint string `mapstructure:"endpoint"`
	// MasterName is the name Sentinel knows the primary by; set, Endpoint
	// lists the Sentinels.
	MasterName string `mapstructure:"master_name"`
	// Cluster forces Cluster mode for a single seed endpoint.
	Cluster bool `mapstructure:"cluster"`
	// Username is the ACL user; empty is Redis's "default" user.
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// SentinelPassword authenticates to the Sentinels, when they ask.
	SentinelPassword configopaque.String `mapstructure:"sentinel_password"`
	// DB is the database number (not with Cluster).
	DB int `mapstructure:"db"`
	// TLS is on by default, as managed services require; insecure: true
	// speaks plain text (a Redis inside the cluster's network).
	TLS configtls.ClientConfig `mapstructure:"tls"`
	// Timeout bounds dialing and each command.
	Timeout time.Duration `mapstructure:"timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// NewDefaultConfig is a TLS connection verified against the system's
// roots, with a 5 s timeout.
func NewDefaultConfig() Config {
	return Config{
		TLS:     configtls.NewDefaultClientConfig(),
		Timeout: 5 * time.Second,
	}
}

// Enabled reports whether an endpoint is set.
func (c *Config) Enabled() bool { return strings.TrimSpace(c.Endpoint) != "" }

// Addrs are the endpoints, trimmed.
func (c *Config) Addrs() []string {
	var addrs []string
	for _, a := range strings.Split(c.Endpoint, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	for _, a := range c.Addrs() {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			errs = append(errs, fmt.Errorf(`"endpoint" must be host:port (several separated by commas), got %q`, a))
		}
	}
	if c.DB < 0 {
		errs = append(errs, fmt.Errorf(`"db" must not be negative, got %d`, c.DB))
	}
	if c.DB != 0 && (c.Cluster || (c.MasterName == "" && len(c.Addrs()) > 1)) {
		errs = append(errs, errors.New(`"db" must be 0 with a Redis Cluster`))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf(`"timeout" must be positive, got %s`, c.Timeout))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf(`"tls": %w`, err))
	}
	return errors.Join(errs...)
}

// NewClient makes the client: a Cluster client for several endpoints or
// cluster: true, a Sentinel failover client with master_name, else a single
// server. It does not connect: go-redis dials on the first command, so a
// server that is down at start costs nothing until it is needed.
func NewClient(ctx context.Context, c Config) (redis.UniversalClient, error) {
	opts := &redis.UniversalOptions{
		Addrs:            c.Addrs(),
		MasterName:       c.MasterName,
		IsClusterMode:    c.Cluster,
		Username:         c.Username,
		Password:         string(c.Password),
		SentinelPassword: string(c.SentinelPassword),
		DB:               c.DB,
		DialTimeout:      c.Timeout,
		ReadTimeout:      c.Timeout,
		WriteTimeout:     c.Timeout,
		// Retries are the caller's: a claim that timed out is refused and
		// its sender retries the whole request.
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
	}
	if !c.TLS.Insecure {
		tlsCfg, err := c.TLS.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("redis TLS settings: %w", err)
		}
		opts.TLSConfig = tlsCfg
	}
	return redis.NewUniversalClient(opts), nil
}
