// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package fakeauth0 is a local stand-in for the parts of the Auth0
// Management API the collector calls, faithful to what matters here:
// client-credentials tokens (POST /oauth/token), users with app_metadata
// (GET and PATCH /api/v2/users/{id}, with Auth0's first-level merge), the
// log API (GET /api/v2/logs with from/take checkpoints), Auth0's rate-limit
// headers and 429s, and injectable failures, latency and hangs.
//
// It is what the real go-auth0 client talks to in tests, and, through
// cmd/fakeauth0, in the end-to-end runs of the built binary. The /_fake/
// endpoints let a test in another process seed and inspect it.
package fakeauth0 // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one API call the fake answered.
type Request struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	UserID string    `json:"user_id,omitempty"`
	Status int       `json:"status"`
	At     time.Time `json:"at"`
}

// Server is the fake. The zero value is not usable: call New.
type Server struct {
	clientID     string
	clientSecret string
	audience     string

	mu       sync.Mutex
	users    map[string]map[string]any
	logs     []map[string]any
	tokens   map[string]bool
	requests []Request

	failStatuses []int
	autoCreate   bool
	latency      time.Duration
	hang         chan struct{} // closed when hanging stops; nil when not hanging
	limiter      *bucket
	now          func() time.Time
}

// New returns a fake tenant whose token endpoint accepts these credentials.
// audience, when not empty, is the audience token requests must ask for.
func New(clientID, clientSecret, audience string) *Server {
	return &Server{
		clientID:     clientID,
		clientSecret: clientSecret,
		audience:     audience,
		users:        map[string]map[string]any{},
		tokens:       map[string]bool{},
		now:          time.Now,
	}
}

// AddUser creates a user; appMetadata may be nil (a user without any).
func (s *Server) AddUser(id string, appMetadata map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if appMetadata == nil {
		appMetadata = map[string]any{}
	}
	s.users[id] = appMetadata
}

// AppMetadata returns a copy of a user's app_metadata, nil if no such user.
func (s *Server) AppMetadata(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, ok := s.users[id]
	if !ok {
		return nil
	}
	out := make(map[string]any, len(md))
	for k, v := range md {
		out[k] = v
	}
	return out
}

// AddLogs appends log events (bare, as GET /api/v2/logs returns them); each
// needs a "log_id". The log API serves them in log_id order.
func (s *Server) AddLogs(events ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, events...)
	sort.SliceStable(s.logs, func(i, j int) bool { return logID(s.logs[i]) < logID(s.logs[j]) })
}

// DropLogsBefore forgets every log event with a log_id below id, as
// retention does.
func (s *Server) DropLogsBefore(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.logs[:0]
	for _, l := range s.logs {
		if logID(l) >= id {
			kept = append(kept, l)
		}
	}
	s.logs = kept
}

func logID(l map[string]any) string {
	id, _ := l["log_id"].(string)
	return id
}

// Requests returns the API calls answered so far whose method matches
// (empty: any) and whose path starts with prefix.
func (s *Server) Requests(method, prefix string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// SetAutoCreate makes unknown users exist, without app_metadata, as soon
// as they are asked about: for load runs whose users are generated.
func (s *Server) SetAutoCreate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoCreate = on
}

// FailNext makes the next API calls (not token requests) answer these
// statuses, one each, in order.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatuses = append(s.failStatuses, statuses...)
}

// ClearFailures drops the failures FailNext queued and not yet answered.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatuses = nil
}

// SetLatency delays every answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetHang makes API calls hang until the caller gives up (true), or
// releases them (false).
func (s *Server) SetHang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// SetRateLimit limits API calls like Auth0 does, a token bucket of burst
// requests refilled at perSecond, answering 429 with x-ratelimit-* headers
// beyond it. perSecond <= 0 removes the limit.
func (s *Server) SetRateLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perSecond <= 0 {
		s.limiter = nil
		return
	}
	s.limiter = &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), last: s.now()}
}

// ServeHTTP answers the Auth0 endpoints and the /_fake/ admin endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
		s.token(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/v2/"):
		s.api(w, r)
	case strings.HasPrefix(r.URL.Path, "/_fake/"):
		s.admin(w, r)
	default:
		writeError(w, http.StatusNotFound, "Not Found", "no such endpoint in the fake")
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials")
		return
	case id != s.clientID || secret != s.clientSecret:
		writeOAuthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	case s.audience != "" && r.PostForm.Get("audience") != s.audience:
		writeOAuthError(w, http.StatusForbidden, "access_denied", "Service not enabled within domain: "+r.PostForm.Get("audience"))
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[token] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 86400, "scope": "read:users update:users read:logs"})
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, At: s.now()}
	if id, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v2/users/"); ok {
		rec.UserID, _ = url.PathUnescape(id)
	}
	status := s.serveAPI(w, r, rec.UserID)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, userID string) int {
	s.mu.Lock()
	latency, hang := s.latency, s.hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return 0
		}
	}
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return 0
		}
	}

	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid := s.tokens[token]
	s.mu.Unlock()
	if !valid {
		return writeError(w, http.StatusUnauthorized, "Unauthorized", "Invalid token")
	}
	if status, limited := s.takeRateLimit(w); limited {
		return status
	}
	if status, failed := s.takeFailure(); failed {
		return writeError(w, status, http.StatusText(status), "injected failure")
	}

	switch {
	case userID != "" && r.Method == http.MethodGet:
		return s.getUser(w, r, userID)
	case userID != "" && r.Method == http.MethodPatch:
		return s.patchUser(w, r, userID)
	case r.URL.Path == "/api/v2/logs" && r.Method == http.MethodGet:
		return s.listLogs(w, r)
	default:
		return writeError(w, http.StatusNotFound, "Not Found", "not implemented by the fake")
	}
}

func (s *Server) takeFailure() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failStatuses) == 0 {
		return 0, false
	}
	status := s.failStatuses[0]
	s.failStatuses = s.failStatuses[1:]
	return status, true
}

// takeRateLimit applies the bucket and writes Auth0's headers; it answers
// the 429 itself when the bucket is empty.
func (s *Server) takeRateLimit(w http.ResponseWriter) (int, bool) {
	s.mu.Lock()
	b := s.limiter
	if b == nil {
		s.mu.Unlock()
		return 0, false
	}
	ok, remaining, reset := b.take(s.now())
	s.mu.Unlock()
	w.Header().Set("X-Ratelimit-Limit", strconv.Itoa(int(b.burst)))
	w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if ok {
		return 0, false
	}
	return writeError(w, http.StatusTooManyRequests, "Too Many Requests", "Global limit has been reached"), true
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, id string) int {
	s.mu.Lock()
	s.createIfAuto(id)
	md, ok := s.users[id]
	var user map[string]any
	if ok {
		user = userJSON(id, md)
	}
	s.mu.Unlock()
	if !ok {
		return writeError(w, http.StatusNotFound, "Not Found", "The user does not exist.")
	}
	q := r.URL.Query()
	if fields := q.Get("fields"); fields != "" && q.Get("include_fields") != "false" {
		keep := map[string]bool{}
		for _, f := range strings.Split(fields, ",") {
			keep[f] = true
		}
		for k := range user {
			if !keep[k] {
				delete(user, k)
			}
		}
	}
	return writeJSON(w, http.StatusOK, user)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string) int {
	var body struct {
		AppMetadata map[string]any `json:"app_metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return writeError(w, http.StatusBadRequest, "Bad Request", "Payload validation error: "+err.Error())
	}
	s.mu.Lock()
	s.createIfAuto(id)
	md, ok := s.users[id]
	if ok {
		// Auth0 merges app_metadata at the first level; null deletes a key.
		for k, v := range body.AppMetadata {
			if v == nil {
				delete(md, k)
			} else {
				md[k] = v
			}
		}
	}
	var user map[string]any
	if ok {
		user = userJSON(id, md)
	}
	s.mu.Unlock()
	if !ok {
		return writeError(w, http.StatusNotFound, "Not Found", "The user does not exist.")
	}
	return writeJSON(w, http.StatusOK, user)
}

// createIfAuto adds an unknown user when auto-creation is on; mu is held.
func (s *Server) createIfAuto(id string) {
	if _, ok := s.users[id]; !ok && s.autoCreate {
		s.users[id] = map[string]any{}
	}
}

func userJSON(id string, md map[string]any) map[string]any {
	copied := make(map[string]any, len(md))
	for k, v := range md {
		copied[k] = v
	}
	return map[string]any{"user_id": id, "app_metadata": copied}
}

// listLogs serves the log API's two ways of reading. With "from", the
// checkpoint way: the events after that log id, in log_id order, at most
// "take" (Auth0 caps it at 100). Without it, the search way: "per_page"
// events of page "page", by date, newest first unless sort=date:1.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	s.mu.Lock()
	logs := append([]map[string]any(nil), s.logs...)
	s.mu.Unlock()
	page := []map[string]any{}
	if from := q.Get("from"); q.Has("from") {
		take := 50
		if v, err := strconv.Atoi(q.Get("take")); err == nil {
			take = v
		}
		if take < 1 || take > 100 {
			return writeError(w, http.StatusBadRequest, "Bad Request", "Query validation error: 'take' must be between 1 and 100")
		}
		for _, l := range logs {
			if from != "" && logID(l) <= from {
				continue
			}
			page = append(page, l)
			if len(page) == take {
				break
			}
		}
		return writeJSON(w, http.StatusOK, page)
	}
	perPage, pageNo := 50, 0
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil {
		perPage = v
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil {
		pageNo = v
	}
	if q.Get("sort") != "date:1" {
		for i, j := 0, len(logs)-1; i < j; i, j = i+1, j-1 {
			logs[i], logs[j] = logs[j], logs[i]
		}
	}
	for i := pageNo * perPage; i < len(logs) && len(page) < perPage; i++ {
		page = append(page, logs[i])
	}
	return writeJSON(w, http.StatusOK, page)
}

// admin serves /_fake/ for tests in other processes:
// GET /_fake/users/{id}, PUT /_fake/users/{id} (app_metadata as body),
// POST /_fake/logs (a JSON array of bare log events), GET /_fake/requests.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.EscapedPath(), "/_fake/users/"); ok {
		id, _ = url.PathUnescape(id)
		switch r.Method {
		case http.MethodGet:
			md := s.AppMetadata(id)
			if md == nil {
				writeError(w, http.StatusNotFound, "Not Found", "no such user")
				return
			}
			writeJSON(w, http.StatusOK, md)
		case http.MethodPut:
			var md map[string]any
			if err := json.NewDecoder(r.Body).Decode(&md); err != nil {
				writeError(w, http.StatusBadRequest, "Bad Request", err.Error())
				return
			}
			s.AddUser(id, md)
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "GET or PUT")
		}
		return
	}
	if r.URL.Path == "/_fake/logs" && r.Method == http.MethodPost {
		var events []map[string]any
		if err := json.NewDecoder(r.Body).Decode(&events); err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request", err.Error())
			return
		}
		s.AddLogs(events...)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.URL.Path == "/_fake/requests" {
		writeJSON(w, http.StatusOK, s.Requests("", "/api/v2/"))
		return
	}
	writeError(w, http.StatusNotFound, "Not Found", "unknown admin endpoint")
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}

// writeError answers in the Management API's error format.
func writeError(w http.ResponseWriter, status int, errName, msg string) int {
	return writeJSON(w, status, map[string]any{"statusCode": status, "error": errName, "message": msg})
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// bucket is Auth0's rate limit: burst requests, refilled at rate per second.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// take spends a token if there is one and reports the remaining whole
// tokens and when the bucket is full again.
func (b *bucket) take(now time.Time) (bool, int, time.Time) {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	missing := b.burst - b.tokens
	reset := now.Add(time.Duration(math.Ceil(missing/b.rate*1e9)) * time.Nanosecond)
	// Auth0 reports whole seconds: round up so that waiting until reset is enough.
	reset = time.Unix(reset.Unix()+1, 0)
	return ok, int(b.tokens), reset
}
