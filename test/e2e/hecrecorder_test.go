// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hecRecorder is a Splunk HEC endpoint that keeps, for every event, its id,
// user, SignUp/Login decision, the token it came with (which can name the
// collector that sent it) and when it arrived.
type hecRecorder struct {
	mu     sync.Mutex
	events []recordedHECEvent
	// down makes it answer 503, as Splunk does when it is unavailable.
	down atomic.Bool
}

type recordedHECEvent struct {
	ID    string
	User  string
	Event string // SignUp, Login or ""
	Basis string // what the decision rested on
	Token string
	At    time.Time
}

func newHECRecorder() *hecRecorder { return &hecRecorder{} }

func (h *hecRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.down.Load() {
		http.Error(w, `{"text":"Server is busy","code":9}`, http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Splunk ")
	now := time.Now()
	var got []recordedHECEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		var ev struct {
			Fields map[string]any `json:"fields"`
		}
		if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
			return
		}
		str := func(k string) string { s, _ := ev.Fields[k].(string); return s }
		id := str("auth0.log_id")
		if id == "" {
			id = str("auth0.event_id")
		}
		got = append(got, recordedHECEvent{ID: id, User: str("user.id"), Event: str("auth0.event"), Basis: str("auth0.event_basis"), Token: token, At: now})
	}
	h.mu.Lock()
	h.events = append(h.events, got...)
	h.mu.Unlock()
	_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
}

func (h *hecRecorder) snapshot() []recordedHECEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recordedHECEvent(nil), h.events...)
}

// received counts arrivals per id.
func (h *hecRecorder) received() map[string]int {
	out := map[string]int{}
	for _, e := range h.snapshot() {
		out[e.ID]++
	}
	return out
}

// waitFor waits until every id has arrived at least once, and returns the
// ids still missing at the deadline.
func (h *hecRecorder) waitFor(ids []string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		got := h.received()
		var missing []string
		for _, id := range ids {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// record is one log stream line and its log id.
type record struct {
	id   string
	line []byte
}

// userlessRecord is a log stream record no user is in (an IP blocked for
// too many failed logins): it passes the signup processor untagged.
func userlessRecord(id string) record {
	b, err := json.Marshal(map[string]any{"log_id": id, "data": map[string]any{
		"date": "2026-11-20T08:13:25.118Z", "type": "limit_wc", "ip": "203.0.113.7",
		"description": "An IP address is blocked due to too many failed logins", "log_id": id,
	}})
	if err != nil {
		panic(err)
	}
	return record{id: id, line: b}
}
