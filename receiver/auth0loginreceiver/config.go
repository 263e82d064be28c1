// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-auth0/otelcol-auth0/internal/mgmtapi"
)

// Config configures the auth0login receiver.
type Config struct {
	// ServerConfig is the HTTP server: endpoint, TLS, auth extensions,
	// body size limit, decompression, timeouts.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// LogsPath receives Auth0 custom webhook log stream batches.
	LogsPath string `mapstructure:"logs_path"`
	// ActionsPath receives the otelcol-auth0 post-login Action's payloads.
	ActionsPath string `mapstructure:"actions_path"`

	// Secret is the value Auth0 must send in the Authorization header, either
	// verbatim or as "Bearer <secret>".
	Secret configopaque.String `mapstructure:"secret"`
	// PreviousSecrets are accepted beside Secret while the senders (the
	// log stream, the Action) move to it, so that a rotation refuses no
	// request. Empty entries are ignored, so that an unset environment
	// variable turns one off.
	PreviousSecrets []configopaque.String `mapstructure:"previous_secrets"`
	// AllowUnauthenticated runs without a secret. Only for a receiver that is
	// reachable from nowhere but a trusted network; the receiver warns at start.
	AllowUnauthenticated bool `mapstructure:"allow_unauthenticated"`

	// Types filters records by Auth0 event type code.
	Types TypeFilterConfig `mapstructure:"types"`

	// MaxRecordSize refuses, with a clear error, a record (or Action
	// payload) whose JSON is longer: the splunk_hec exporter would drop it
	// after delivery was promised (its max_event_size is 5 MiB).
	MaxRecordSize int `mapstructure:"max_record_size"`

	// Dedupe drops records whose id was delivered recently.
	Dedupe DedupeConfig `mapstructure:"dedupe"`

	// RetryAfter is the Retry-After the receiver answers with its 503s, when
	// the pipeline behind it refuses data for now.
	RetryAfter time.Duration `mapstructure:"retry_after"`

	// MaxRequestRecords refuses (413) a request that holds more records
	// (more top-level JSON values): each costs a log record, however few
	// bytes it takes. The body's decoded size is bounded by
	// max_request_body_size, a confighttp option.
	MaxRequestRecords int `mapstructure:"max_request_records"`

	// Admission bounds what the requests being read and decoded hold
	// together, so that a flood cannot build more in memory than
	// memory_limiter, which sees records only once built, can stop.
	// AdmissionMemoryMiB counts their memory as the receiver estimates it:
	// the body as it is read and decoded, then what its records may take,
	// reserved before they are built. MaxConcurrentRequests bounds how
	// many are parsed at once (a slot is taken once the body is read, so
	// that slow senders hold none). A request that finds no room within
	// AdmissionTimeout is answered 503 with Retry-After.
	AdmissionMemoryMiB    int64         `mapstructure:"admission_memory_mib"`
	MaxConcurrentRequests int           `mapstructure:"max_concurrent_requests"`
	AdmissionTimeout      time.Duration `mapstructure:"admission_timeout"`

	// Drain makes shutdown wait for the exporters' persistent queue to
	// reach its destination.
	Drain DrainConfig `mapstructure:"drain"`

	// Poll reads the tenant's log API from a checkpoint (pull mode), beside
	// or instead of the HTTP endpoints (an empty endpoint turns them off).
	Poll PollConfig `mapstructure:"poll"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TypeFilterConfig keeps or drops records by their Auth0 type code (the log
// event's "type", e.g. "s", "f", "sapi"). An empty Include keeps every type.
type TypeFilterConfig struct {
	Include []string `mapstructure:"include"`
	Exclude []string `mapstructure:"exclude"`
}

// PollConfig is pull mode: GET /api/v2/logs from a checkpoint.
type PollConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// ManagementAPI needs a client with the read:logs scope. It shares its
	// rate budget with every other component of the collector calling the
	// same domain (the signup processor).
	ManagementAPI mgmtapi.Config `mapstructure:"management_api"`
	// Interval is the wait between two drains of the log API.
	Interval time.Duration `mapstructure:"interval"`
	// PageSize is the take of each request, at most 100.
	PageSize int `mapstructure:"page_size"`
	// Start is where reading begins when no checkpoint is stored: "now"
	// (the newest event), "oldest" (the oldest Auth0 still keeps) or a log id.
	Start string `mapstructure:"start"`
	// Storage names a storage extension that keeps the checkpoint, so a
	// restart resumes where it stopped. Without it, a restart begins at Start.
	Storage *component.ID `mapstructure:"storage"`
}

// DrainConfig is what the receiver does at shutdown, which the collector
// runs on receivers before exporters: it answers new requests 503 with
// Retry-After, lets those already admitted finish, and then waits until
// the exporters' persistent queue is empty, so that what was acknowledged
// reaches Splunk before the node and its disk may go.
type DrainConfig struct {
	// Storage names the storage extension that holds the exporters'
	// persistent queue (their sending_queue::storage). It must count the
	// items queued in it, as journal_storage does. Without it, shutdown
	// does not wait for the queue.
	Storage *component.ID `mapstructure:"storage"`
	// Timeout bounds the wait; what is still queued then stays on disk
	// for the next start. 0 turns the wait off.
	Timeout time.Duration `mapstructure:"timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the drain's settings.
func (d *DrainConfig) Validate() error {
	if d.Timeout < 0 {
		return fmt.Errorf(`"drain.timeout" must not be negative (0 turns the wait off), got %s`, d.Timeout)
	}
	return nil
}

// DedupeConfig bounds the memory of recently delivered record ids.
type DedupeConfig struct {
	// Window is how long a delivered id is remembered; 0 turns dedupe off.
	Window time.Duration `mapstructure:"window"`
	// MaxEntries caps the ids held (about 50 bytes each) whatever the window.
	MaxEntries int `mapstructure:"max_entries"`
}

var (
	errNoAuthentication = errors.New(`no authentication: set "secret" (the Authorization token configured on the Auth0 log stream and in the Action's secrets), configure an "auth" extension, or set "allow_unauthenticated: true" to accept anyone's requests`)
	errSecretAndUnauth  = errors.New(`"secret" and "allow_unauthenticated: true" contradict each other: remove one`)
)

// Validate reports every problem of the configuration at once.
func (cfg *Config) Validate() error {
	var errs []error
	httpOn := cfg.ServerConfig.NetAddr.Endpoint != ""
	if !httpOn && !cfg.Poll.Enabled {
		errs = append(errs, errors.New(`"endpoint" must be set, e.g. "localhost:8080" or "0.0.0.0:8080" (it may be empty only in pull mode, with poll enabled)`))
	}
	errs = append(errs, validatePath("logs_path", cfg.LogsPath), validatePath("actions_path", cfg.ActionsPath))
	if cfg.LogsPath != "" && cfg.LogsPath == cfg.ActionsPath {
		errs = append(errs, fmt.Errorf(`"logs_path" and "actions_path" must differ, both are %q`, cfg.LogsPath))
	}

	hasSecret := strings.TrimSpace(string(cfg.Secret)) != ""
	switch {
	case hasSecret && cfg.AllowUnauthenticated:
		errs = append(errs, errSecretAndUnauth)
	case httpOn && !hasSecret && !cfg.AllowUnauthenticated && !cfg.ServerConfig.Auth.HasValue():
		errs = append(errs, errNoAuthentication)
	}
	errs = append(errs, validateSecret("secret", cfg.Secret))
	if previous := cfg.previousSecrets(); len(previous) > 0 && !hasSecret {
		errs = append(errs, errors.New(`"previous_secrets" is set but "secret" is empty: "secret" is the secret senders move to, and must be set while the previous ones are accepted`))
	}
	for i, s := range cfg.PreviousSecrets {
		errs = append(errs, validateSecret(fmt.Sprintf("previous_secrets[%d]", i), s))
	}

	for _, code := range cfg.Types.Include {
		if code == "" {
			errs = append(errs, errors.New(`"types.include" has an empty type code`))
		}
		for _, ex := range cfg.Types.Exclude {
			if code == ex {
				errs = append(errs, fmt.Errorf(`type %q is in both "types.include" and "types.exclude"`, code))
			}
		}
	}
	for _, code := range cfg.Types.Exclude {
		if code == "" {
			errs = append(errs, errors.New(`"types.exclude" has an empty type code`))
		}
	}

	if cfg.MaxRecordSize < 1 || cfg.MaxRecordSize > 4<<20 {
		errs = append(errs, fmt.Errorf(`"max_record_size" must be between 1 and 4194304 bytes (under the splunk_hec exporter's 5 MiB max_event_size once attributes are added), got %d`, cfg.MaxRecordSize))
	}
	if cfg.Dedupe.Window < 0 {
		errs = append(errs, fmt.Errorf(`"dedupe.window" must not be negative, got %s`, cfg.Dedupe.Window))
	}
	if cfg.Dedupe.Window > 0 && cfg.Dedupe.MaxEntries <= 0 {
		errs = append(errs, fmt.Errorf(`"dedupe.max_entries" must be positive when dedupe is on, got %d`, cfg.Dedupe.MaxEntries))
	}
	errs = append(errs, validateCodings(cfg.ServerConfig.CompressionAlgorithms))
	if cfg.ServerConfig.MaxRequestBodySize < 0 || (cfg.ServerConfig.MaxRequestBodySize > 0 && cfg.ServerConfig.MaxRequestBodySize < minRequestBodySize) {
		errs = append(errs, fmt.Errorf(`"max_request_body_size" must be at least %d bytes (or 0 for the default, %d), got %d`, minRequestBodySize, defaultMaxRequestBodySize, cfg.ServerConfig.MaxRequestBodySize))
	}
	if cfg.MaxRequestRecords < 1 {
		errs = append(errs, fmt.Errorf(`"max_request_records" must be at least 1, got %d`, cfg.MaxRequestRecords))
	}
	if cfg.AdmissionMemoryMiB < 1 {
		errs = append(errs, fmt.Errorf(`"admission_memory_mib" must be at least 1, got %d`, cfg.AdmissionMemoryMiB))
	} else if need := maxRequestCost(cfg.maxRequestBodySize(), max(cfg.MaxRequestRecords, 0)); need > cfg.AdmissionMemoryMiB<<20 {
		errs = append(errs, fmt.Errorf(`"admission_memory_mib" (%d) must hold the largest request allowed, which may take %d MiB (max_request_body_size %d bytes and max_request_records %d; %d bytes of records for each byte of body, %d for each record): raise it or lower those`,
			cfg.AdmissionMemoryMiB, (need+1<<20-1)>>20, cfg.maxRequestBodySize(), cfg.MaxRequestRecords, 1+pdataPerByte, recordOverhead))
	}
	if cfg.MaxConcurrentRequests < 1 {
		errs = append(errs, fmt.Errorf(`"max_concurrent_requests" must be at least 1, got %d`, cfg.MaxConcurrentRequests))
	}
	if cfg.AdmissionTimeout < 0 {
		errs = append(errs, fmt.Errorf(`"admission_timeout" must not be negative, got %s`, cfg.AdmissionTimeout))
	}
	if cfg.RetryAfter < time.Second {
		errs = append(errs, fmt.Errorf(`"retry_after" must be at least 1s (Retry-After counts whole seconds), got %s`, cfg.RetryAfter))
	}
	if cfg.Poll.Enabled {
		errs = append(errs, cfg.Poll.validate())
	}
	return errors.Join(errs...)
}

// validateSecret refuses a secret that no sender could match.
func validateSecret(name string, secret configopaque.String) error {
	if secret != "" && strings.TrimSpace(string(secret)) != string(secret) {
		return fmt.Errorf("%q has leading or trailing whitespace, which Auth0 would not send back", name)
	}
	return nil
}

// secrets are the secrets a request may carry, the current one first; none
// is empty, since an empty secret would match a request without one.
func (cfg *Config) secrets() []string {
	if cfg.Secret == "" {
		return nil
	}
	return append([]string{string(cfg.Secret)}, cfg.previousSecrets()...)
}

// previousSecrets are the non-empty entries of previous_secrets.
func (cfg *Config) previousSecrets() []string {
	var out []string
	for _, s := range cfg.PreviousSecrets {
		if s != "" {
			out = append(out, string(s))
		}
	}
	return out
}

// minRequestBodySize keeps max_request_body_size above what one Auth0
// record takes.
const minRequestBodySize = 1 << 10

// maxRequestBodySize is the effective max_request_body_size: the bound of a
// body's decoded bytes, and of its bytes on the wire.
func (cfg *Config) maxRequestBodySize() int64 {
	if cfg.ServerConfig.MaxRequestBodySize > 0 {
		return cfg.ServerConfig.MaxRequestBodySize
	}
	return defaultMaxRequestBodySize
}

var logIDPattern = regexp.MustCompile(`^[0-9]{10,}$`)

func (p *PollConfig) validate() error {
	var errs []error
	if !p.ManagementAPI.Enabled() {
		errs = append(errs, errors.New(`"poll.management_api" needs domain, client_id and client_secret of a client with the read:logs scope`))
	}
	if err := p.ManagementAPI.Validate(); err != nil {
		errs = append(errs, fmt.Errorf(`"poll.management_api": %w`, err))
	}
	if p.Interval < time.Second {
		errs = append(errs, fmt.Errorf(`"poll.interval" must be at least 1s, got %s`, p.Interval))
	}
	if p.PageSize < 1 || p.PageSize > 100 {
		errs = append(errs, fmt.Errorf(`"poll.page_size" must be between 1 and 100 (Auth0's limit), got %d`, p.PageSize))
	}
	if p.Start != "now" && p.Start != "oldest" && !logIDPattern.MatchString(p.Start) {
		errs = append(errs, fmt.Errorf(`"poll.start" must be "now", "oldest" or an Auth0 log id, got %q`, p.Start))
	}
	return errors.Join(errs...)
}

func validatePath(name, path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("%q must be an absolute URL path starting with '/', got %q", name, path)
	}
	if strings.ContainsAny(path, " ?#{}") {
		return fmt.Errorf("%q must be a plain URL path without spaces, query, fragment or patterns, got %q", name, path)
	}
	return nil
}
