// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
	"github.com/otelcol-auth0/otelcol-auth0/internal/redisclient"
)

// Body formats of tagged records.
const (
	// BodyFormatRule makes the HEC event exactly the legacy Rule's object.
	BodyFormatRule = "rule"
	// BodyFormatAuth0 keeps the Auth0 record the receiver produced.
	BodyFormatAuth0 = "auth0"
)

// What a record that needs a SignUp claim meets when the shared store
// (Redis) does not answer.
const (
	// WhenUnavailableRefuse refuses the request (503 with Retry-After): its
	// sender retries, and exactly one SignUp per user holds.
	WhenUnavailableRefuse = "refuse"
	// WhenUnavailableDecideLocally decides on this replica's word alone:
	// nothing waits, and a user whose records reach two replicas meanwhile
	// may get two SignUps (at least once), each counted.
	WhenUnavailableDecideLocally = "decide_locally"
)

// What happens to records that are neither a SignUp nor a Login.
const (
	OtherRecordsPass = "pass"
	OtherRecordsDrop = "drop"
)

// Config configures the signup processor.
type Config struct {
	// Attribute receives the decision, "SignUp" or "Login".
	Attribute string `mapstructure:"attribute"`
	// SignedUpKey is the app_metadata key that marks a user signed up.
	SignedUpKey string `mapstructure:"signed_up_key"`
	// OtherRecords is "pass" (untagged) or "drop" for every record that is
	// not a SignUp or Login: failures, token exchanges, logouts, ...
	OtherRecords string `mapstructure:"other_records"`
	// BodyFormat is the body of tagged records: "rule" or "auth0".
	BodyFormat string `mapstructure:"body_format"`

	Splunk SplunkConfig `mapstructure:"splunk"`

	// Storage names a storage extension (file_storage) that keeps the users
	// already marked and the pending updates across restarts. Without it,
	// both live in memory only.
	Storage *component.ID `mapstructure:"storage"`
	// CacheSize bounds the users kept in memory (about 150 bytes each).
	CacheSize int `mapstructure:"cache_size"`

	// Redis, with an endpoint, is the store of SignUp claims shared by
	// every replica of the collector (and of their pending app_metadata
	// updates). Without it, claims are this process's alone: right for one
	// replica, wrong for several.
	Redis RedisConfig `mapstructure:"redis"`
	// redisSection: the configuration has a redis section, so an empty
	// endpoint is a variable left unset, not a choice of the local store.
	redisSection bool

	// ManagementAPI is how to reach the tenant; without credentials,
	// lookups and updates are off.
	ManagementAPI mgmtapi.Config `mapstructure:"management_api"`
	Lookups       LookupConfig   `mapstructure:"lookups"`
	Updates       UpdateConfig   `mapstructure:"updates"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RedisConfig is the shared claim store.
type RedisConfig struct {
	redisclient.Config `mapstructure:",squash"`
	// KeyPrefix starts every key; the tenant follows it as a Cluster hash
	// tag: "<key_prefix>:{<tenant>}:signup:<user_id>".
	KeyPrefix string `mapstructure:"key_prefix"`
	// Tenant separates the claims of tenants sharing one Redis. Empty is
	// management_api.domain, or "default" without one.
	Tenant string `mapstructure:"tenant"`
	// WhenUnavailable is "refuse" or "decide_locally".
	WhenUnavailable string `mapstructure:"when_unavailable"`
	// LoginTTL is how long Redis remembers a record this replica decided a
	// Login for want of an answer, so that no other replica makes a copy
	// of it the SignUp. It must outlast the receiver's dedupe.window.
	LoginTTL time.Duration `mapstructure:"login_ttl"`
}

// tenant is the tenant part of the keys.
func (cfg *Config) redisTenant() string {
	switch {
	case cfg.Redis.Tenant != "":
		return cfg.Redis.Tenant
	case cfg.ManagementAPI.Domain != "":
		return cfg.ManagementAPI.Domain
	default:
		return "default"
	}
}

// Validate reports every problem of the shared store's settings.
func (cfg *RedisConfig) Validate() error {
	if !cfg.Enabled() {
		return nil
	}
	var errs []error
	if err := cfg.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(cfg.KeyPrefix) == "" {
		errs = append(errs, errors.New(`"key_prefix" must not be empty`))
	}
	if strings.ContainsAny(cfg.KeyPrefix+cfg.Tenant, "{}") {
		errs = append(errs, errors.New(`"key_prefix" and "tenant" must not contain braces: the tenant is the keys' Cluster hash tag`))
	}
	if cfg.WhenUnavailable != WhenUnavailableRefuse && cfg.WhenUnavailable != WhenUnavailableDecideLocally {
		errs = append(errs, fmt.Errorf(`"when_unavailable" must be %q or %q, got %q`, WhenUnavailableRefuse, WhenUnavailableDecideLocally, cfg.WhenUnavailable))
	}
	if cfg.LoginTTL < time.Second {
		errs = append(errs, fmt.Errorf(`"login_ttl" must be at least 1s (and longer than the receiver's dedupe.window), got %s`, cfg.LoginTTL))
	}
	return errors.Join(errs...)
}

// SplunkConfig sets the attributes the splunk_hec exporter reads its
// metadata from. An empty value sets nothing (the exporter's own default).
type SplunkConfig struct {
	Source     string `mapstructure:"source"`
	SourceType string `mapstructure:"sourcetype"`
	Index      string `mapstructure:"index"`
}

// LookupConfig governs reading a user's app_metadata when nothing else
// tells whether they signed up.
type LookupConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Timeout bounds one lookup: it sits on the log path.
	Timeout time.Duration `mapstructure:"timeout"`
	// Concurrency bounds the lookups of one batch running at once.
	Concurrency int `mapstructure:"concurrency"`
	// Cooldown pauses lookups after one failed, so that a slow or failing
	// Management API costs the log path one timeout per cooldown at most.
	Cooldown time.Duration `mapstructure:"cooldown"`
	// CheckSignUpsOlderThan: a record taken in by a collector longer ago
	// than this (its observed time) that would make a SignUp of a user the
	// store does not know (a signup record, a first login, an Action
	// payload without the flag) is checked with a lookup first, waiting for
	// the read budget up to Timeout: it waited (in a queue, or through its
	// sender's retries), so another collector may have counted the user
	// meanwhile. 0 checks every such record.
	CheckSignUpsOlderThan time.Duration `mapstructure:"check_signups_older_than"`
	// RecheckByCountAfter: a user known only by a logins count above one
	// (their lookup was skipped for the read budget, failed, or did not
	// find them) is looked up again on a login at least this long after
	// the count was taken or last checked, when the read budget has room:
	// marked in Auth0, they are signed up by Auth0's word from then on;
	// unmarked, that login is their SignUp, as the Rule's would have been.
	// Longer than records arrive out of order, so that a new user's first
	// login, delayed behind a later one, stays their SignUp.
	RecheckByCountAfter time.Duration `mapstructure:"recheck_by_count_after"`
}

// UpdateConfig governs the queue of app_metadata updates.
type UpdateConfig struct {
	QueueSize int `mapstructure:"queue_size"`
	Workers   int `mapstructure:"workers"`
	// DrainTimeout bounds how long shutdown keeps sending updates; what is
	// left stays in storage for the next start.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
	// Lease, with a shared store (redis), is how long an update a replica
	// took may go without a sign of life from it before another replica
	// takes it over: how long a replica that died holds up its updates. A
	// live replica renews its updates every third of it.
	Lease time.Duration `mapstructure:"lease"`
	// RetryOnFailure is the backoff between attempts of a failed update;
	// max_elapsed_time 0 keeps an update until it succeeds.
	RetryOnFailure configretry.BackOffConfig `mapstructure:"retry_on_failure"`
}

// Unmarshal notes whether the configuration has a redis section.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(cfg); err != nil {
		return err
	}
	cfg.redisSection = conf.IsSet("redis")
	return nil
}

// Validate reports every problem of the configuration at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.redisSection && !cfg.Redis.Enabled() {
		errs = append(errs, errors.New(`"redis.endpoint" is empty: set it (REDIS_ENDPOINT with config/redis.yaml), or remove the redis section to decide SignUps on this replica alone`))
	}
	if strings.TrimSpace(cfg.Attribute) == "" {
		errs = append(errs, errors.New(`"attribute" must name the attribute that receives SignUp or Login`))
	}
	if strings.TrimSpace(cfg.SignedUpKey) == "" {
		errs = append(errs, errors.New(`"signed_up_key" must name the app_metadata key, e.g. "signedUp"`))
	}
	if cfg.OtherRecords != OtherRecordsPass && cfg.OtherRecords != OtherRecordsDrop {
		errs = append(errs, fmt.Errorf(`"other_records" must be %q or %q, got %q`, OtherRecordsPass, OtherRecordsDrop, cfg.OtherRecords))
	}
	if cfg.BodyFormat != BodyFormatRule && cfg.BodyFormat != BodyFormatAuth0 {
		errs = append(errs, fmt.Errorf(`"body_format" must be %q or %q, got %q`, BodyFormatRule, BodyFormatAuth0, cfg.BodyFormat))
	}
	if cfg.CacheSize < 1 {
		errs = append(errs, fmt.Errorf(`"cache_size" must be positive, got %d`, cfg.CacheSize))
	}
	if err := cfg.Redis.Validate(); err != nil {
		errs = append(errs, fmt.Errorf(`"redis": %w`, err))
	}
	if err := cfg.ManagementAPI.Validate(); err != nil {
		errs = append(errs, fmt.Errorf(`"management_api": %w`, err))
	}
	if cfg.Lookups.Enabled {
		if cfg.Lookups.Timeout <= 0 {
			errs = append(errs, fmt.Errorf(`"lookups.timeout" must be positive, got %s`, cfg.Lookups.Timeout))
		}
		if cfg.Lookups.Concurrency < 1 {
			errs = append(errs, fmt.Errorf(`"lookups.concurrency" must be at least 1, got %d`, cfg.Lookups.Concurrency))
		}
		if cfg.Lookups.Cooldown < 0 {
			errs = append(errs, fmt.Errorf(`"lookups.cooldown" must not be negative, got %s`, cfg.Lookups.Cooldown))
		}
		if cfg.Lookups.CheckSignUpsOlderThan < 0 {
			errs = append(errs, fmt.Errorf(`"lookups.check_signups_older_than" must not be negative, got %s`, cfg.Lookups.CheckSignUpsOlderThan))
		}
		if cfg.Lookups.RecheckByCountAfter < 0 {
			errs = append(errs, fmt.Errorf(`"lookups.recheck_by_count_after" must not be negative, got %s`, cfg.Lookups.RecheckByCountAfter))
		}
	}
	if cfg.Updates.QueueSize < 1 {
		errs = append(errs, fmt.Errorf(`"updates.queue_size" must be positive, got %d`, cfg.Updates.QueueSize))
	}
	if cfg.Updates.Workers < 1 {
		errs = append(errs, fmt.Errorf(`"updates.workers" must be at least 1, got %d`, cfg.Updates.Workers))
	}
	if cfg.Updates.Lease < 3*time.Millisecond {
		errs = append(errs, fmt.Errorf(`"updates.lease" must be at least 3ms (it is renewed every third), got %s`, cfg.Updates.Lease))
	}
	if cfg.Updates.DrainTimeout < 0 {
		errs = append(errs, fmt.Errorf(`"updates.drain_timeout" must not be negative, got %s`, cfg.Updates.DrainTimeout))
	}
	if err := cfg.Updates.RetryOnFailure.Validate(); err != nil {
		errs = append(errs, fmt.Errorf(`"updates.retry_on_failure": %w`, err))
	}
	return errors.Join(errs...)
}
