// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package localhec is a local stand-in for Splunk's HTTP Event Collector. It
// answers as HEC does (token check, gzip, HEC's success and error JSON, the
// health endpoint) and appends every event it accepts to a file exactly as
// the client sent it: one HEC event object per line, decompressed, so the
// file shows what Splunk would index. `make run` starts it (cmd/localhec)
// when no Splunk is configured; tests run it in process.
package localhec // import "github.com/otelcol-auth0/otelcol-auth0/internal/localhec"

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
)

// HEC paths, as Splunk serves them.
const (
	PathCollector   = "/services/collector"
	PathEvent       = "/services/collector/event"
	PathEvent10     = "/services/collector/event/1.0"
	PathHealth      = "/services/collector/health"
	PathHealth10    = "/services/collector/health/1.0"
	authScheme      = "Splunk "
	defaultMaxBytes = 64 << 20
)

// Handler serves the HEC endpoints and writes accepted events to Out.
type Handler struct {
	token    string
	maxBytes int64
	logf     func(format string, args ...any)

	mu  sync.Mutex
	out io.Writer
}

// Options change a Handler's defaults.
type Options struct {
	// MaxBytes bounds a request body, after decompression (default 64 MiB,
	// far above the splunk_hec exporter's 2 MiB requests).
	MaxBytes int64
	// Logger receives one line per refused request (default: discarded).
	// Tokens never appear in it.
	Logger *log.Logger
}

// New returns a Handler that accepts requests carrying token and appends
// their events to out, one per line. A write to out happens once per
// request, with every event of the request, under a lock.
func New(token string, out io.Writer, opts Options) (*Handler, error) {
	if token == "" {
		return nil, errors.New("localhec: a HEC token is required")
	}
	h := &Handler{token: token, out: out, maxBytes: opts.MaxBytes, logf: func(string, ...any) {}}
	if h.maxBytes <= 0 {
		h.maxBytes = defaultMaxBytes
	}
	if opts.Logger != nil {
		h.logf = opts.Logger.Printf
	}
	return h, nil
}

// answer is HEC's response body.
type answer struct {
	Text               string `json:"text"`
	Code               int    `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number,omitempty"`
}

// HEC status codes (Splunk's "Troubleshoot HTTP Event Collector" table).
const (
	codeSuccess            = 0
	codeTokenRequired      = 2
	codeInvalidAuth        = 3
	codeInvalidToken       = 4
	codeNoData             = 5
	codeInvalidDataFormat  = 6
	codeEventRequired      = 12
	codeEventBlank         = 13
	codeServerBusy         = 9
	codeIndexedFieldsError = 15
	codeHealthy            = 17
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathHealth, PathHealth10:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.refuse(w, r, http.StatusMethodNotAllowed, answer{Text: "Only GET is supported", Code: codeInvalidDataFormat})
			return
		}
		reply(w, http.StatusOK, answer{Text: "HEC is healthy", Code: codeHealthy})
	case PathCollector, PathEvent, PathEvent10:
		h.serveEvents(w, r)
	default:
		h.refuse(w, r, http.StatusNotFound, answer{Text: "The requested URL was not found on this server.", Code: http.StatusNotFound})
	}
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, answer{Text: "Only POST is supported", Code: codeInvalidDataFormat})
		return
	}
	if status, a, ok := h.authorize(r.Header.Get("Authorization")); !ok {
		h.refuse(w, r, status, a)
		return
	}
	body, status, a, ok := h.readBody(w, r)
	if !ok {
		h.refuse(w, r, status, a)
		return
	}
	lines, a, ok := eventLines(body)
	if !ok {
		h.refuse(w, r, http.StatusBadRequest, a)
		return
	}
	h.mu.Lock()
	_, err := h.out.Write(lines)
	h.mu.Unlock()
	if err != nil {
		h.refuse(w, r, http.StatusServiceUnavailable, answer{Text: "Could not write the events: " + err.Error(), Code: codeServerBusy})
		return
	}
	reply(w, http.StatusOK, answer{Text: "Success", Code: codeSuccess})
}

// authorize checks "Authorization: Splunk <token>".
func (h *Handler) authorize(header string) (int, answer, bool) {
	if header == "" {
		return http.StatusUnauthorized, answer{Text: "Token is required", Code: codeTokenRequired}, false
	}
	if len(header) < len(authScheme) || !strings.EqualFold(header[:len(authScheme)], authScheme) {
		return http.StatusUnauthorized, answer{Text: "Invalid authorization", Code: codeInvalidAuth}, false
	}
	got := strings.TrimSpace(header[len(authScheme):])
	if subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
		return http.StatusForbidden, answer{Text: "Invalid token", Code: codeInvalidToken}, false
	}
	return 0, answer{}, true
}

// readBody reads the request body, gunzipping it when the client says so,
// within maxBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, answer, bool) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, h.maxBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, answer{Text: "Invalid data format: the body is not gzip: " + err.Error(), Code: codeInvalidDataFormat}, false
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, answer{Text: fmt.Sprintf("Content-Encoding %q is not supported: send gzip or nothing", enc), Code: codeInvalidDataFormat}, false
	}
	body, err := io.ReadAll(io.LimitReader(src, h.maxBytes+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge), err == nil && int64(len(body)) > h.maxBytes:
		return nil, http.StatusRequestEntityTooLarge, answer{Text: fmt.Sprintf("Content too large (maximum is %d bytes)", h.maxBytes), Code: codeInvalidDataFormat}, false
	case err != nil:
		return nil, http.StatusBadRequest, answer{Text: "Invalid data format: reading the body: " + err.Error(), Code: codeInvalidDataFormat}, false
	}
	return body, 0, answer{}, true
}

// eventLines checks every HEC event of a request body (JSON objects one
// after another, with or without whitespace between them) as HEC does, and
// returns them one per line, each exactly as sent but for whitespace
// outside strings. A request with an invalid event writes nothing; the
// answer names the first invalid event.
func eventLines(body []byte) ([]byte, answer, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out bytes.Buffer
	for n := 0; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, answer{Text: "No data", Code: codeNoData}, false
			}
			return out.Bytes(), answer{}, true
		}
		if err != nil {
			return nil, invalid(n, codeInvalidDataFormat, "Invalid data format"), false
		}
		if a, ok := checkEvent(raw, n); !ok {
			return nil, a, false
		}
		if err := json.Compact(&out, raw); err != nil {
			return nil, invalid(n, codeInvalidDataFormat, "Invalid data format"), false
		}
		out.WriteByte('\n')
	}
}

// checkEvent applies HEC's rules to one event: an object with a non-blank
// "event", flat "fields" (values that are strings, numbers, booleans or
// arrays of those) and a numeric "time" when present.
func checkEvent(raw json.RawMessage, n int) (answer, bool) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ev); err != nil || ev == nil {
		return invalid(n, codeInvalidDataFormat, "Invalid data format"), false
	}
	event, ok := ev["event"]
	if !ok || string(event) == "null" {
		return invalid(n, codeEventRequired, "Event field is required"), false
	}
	if string(bytes.TrimSpace(event)) == `""` {
		return invalid(n, codeEventBlank, "Event field cannot be blank"), false
	}
	if fields, ok := ev["fields"]; ok {
		var m map[string]any
		if err := json.Unmarshal(fields, &m); err != nil {
			return invalid(n, codeIndexedFieldsError, "Error in handling indexed fields"), false
		}
		for _, v := range m {
			if !flat(v) {
				return invalid(n, codeIndexedFieldsError, "Error in handling indexed fields"), false
			}
		}
	}
	if t, ok := ev["time"]; ok && !numeric(t) {
		return invalid(n, codeInvalidDataFormat, "Invalid data format"), false
	}
	for _, key := range []string{"host", "source", "sourcetype", "index"} {
		if v, ok := ev[key]; ok {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return invalid(n, codeInvalidDataFormat, "Invalid data format"), false
			}
		}
	}
	return answer{}, true
}

// flat reports whether an indexed field's value is one HEC indexes: no
// objects, no nested arrays.
func flat(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				return false
			}
		}
	}
	return true
}

// numeric accepts a JSON number or a string holding one, as HEC's "time".
func numeric(raw json.RawMessage) bool {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	return json.Unmarshal([]byte(s), &f) == nil
}

func invalid(n, code int, text string) answer {
	return answer{Text: text, Code: code, InvalidEventNumber: &n}
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, a answer) {
	h.logf("localhec: %s %s: %d %s", r.Method, r.URL.Path, status, a.Text)
	reply(w, status, a)
}

func reply(w http.ResponseWriter, status int, a answer) {
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
