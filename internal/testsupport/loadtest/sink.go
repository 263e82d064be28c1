// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Sink is a Splunk HEC endpoint that counts the events that arrive, by
// id, so that a run can say what is missing or duplicated. It can play an
// outage: answer every request with a status (503 with Retry-After, 429).
type Sink struct {
	mu       sync.Mutex
	received map[string]int
	// signups: users whose SignUp arrived, and how many times; signupIDs:
	// the ids of those events per user, each with how many times it
	// arrived. Only kept when DecodeEvents is set.
	signups   map[string]int
	signupIDs map[string]map[string]int

	// DecodeEvents makes the sink decode every event's fields (slower),
	// to follow SignUps per user.
	DecodeEvents bool
	// KeepEvents keeps every decoded event (with DecodeEvents), for tests
	// that look at their content.
	KeepEvents bool
	kept       []map[string]any

	requests atomic.Int64
	events   atomic.Int64
	// rawBytes and wireBytes are the HEC JSON of the accepted requests,
	// as decompressed and as received.
	rawBytes  atomic.Int64
	wireBytes atomic.Int64
	fault     atomic.Pointer[Fault]
}

// Fault is how the sink answers while it plays an outage.
type Fault struct {
	Status     int
	RetryAfter int // seconds; 0 sends no Retry-After
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{received: map[string]int{}, signups: map[string]int{}, signupIDs: map[string]map[string]int{}}
}

// SetFault makes the sink answer f to every request; nil ends the outage.
func (s *Sink) SetFault(f *Fault) { s.fault.Store(f) }

// IDField is the index-time field that carries each event's id: every
// pipeline measured here sends it (otelcol-config.yaml with
// hecfields.Overlay; the lean default does not). The sink finds ids by
// scanning for it rather than decoding each event: it shares the machine
// with the collector it measures.
const IDField = "auth0.log_id"

var idField = []byte(`"` + IDField + `":"`)

func scanIDs(raw []byte) []string {
	var ids []string
	for {
		i := bytes.Index(raw, idField)
		if i < 0 {
			return ids
		}
		raw = raw[i+len(idField):]
		end := bytes.IndexByte(raw, '"')
		if end < 0 {
			return ids
		}
		ids = append(ids, string(raw[:end]))
		raw = raw[end:]
	}
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if f := s.fault.Load(); f != nil {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(`{"text":"Server is busy","code":9}`))
		return
	}
	wire := &countingReader{r: r.Body}
	var body io.Reader = wire
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(wire)
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
	ids := scanIDs(raw)
	if s.DecodeEvents {
		if err := s.decodeSignUps(raw); err != nil {
			http.Error(w, `{"text":"Invalid data format","code":6}`, http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	for _, id := range ids {
		s.received[id]++
	}
	s.mu.Unlock()
	s.events.Add(int64(len(ids)))
	s.rawBytes.Add(int64(len(raw)))
	s.wireBytes.Add(wire.n)
	_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
}

func (s *Sink) decodeSignUps(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		var ev map[string]any
		if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		fields, _ := ev["fields"].(map[string]any)
		s.mu.Lock()
		if fields["auth0.event"] == "SignUp" {
			// user.id when it is a field; else the Rule's object has it.
			user, _ := fields["user.id"].(string)
			if event, ok := ev["event"].(map[string]any); ok && user == "" {
				user, _ = event["userId"].(string)
			}
			s.signups[user]++
			id, _ := fields[IDField].(string)
			if s.signupIDs[user] == nil {
				s.signupIDs[user] = map[string]int{}
			}
			s.signupIDs[user][id]++
		}
		if s.KeepEvents {
			s.kept = append(s.kept, ev)
		}
		s.mu.Unlock()
	}
}

// Kept returns the events kept (KeepEvents), decoded from HEC JSON.
func (s *Sink) Kept() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.kept...)
}

// SignUps returns, per user, how many SignUp events arrived (DecodeEvents).
func (s *Sink) SignUps() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.signups))
	for k, v := range s.signups {
		out[k] = v
	}
	return out
}

// SignUpRecords returns, per user, the ids of the SignUp events that
// arrived, each with how many times (DecodeEvents): one id arriving twice
// is one record delivered twice, two ids are two records tagged SignUp.
func (s *Sink) SignUpRecords() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]int, len(s.signupIDs))
	for user, ids := range s.signupIDs {
		out[user] = maps.Clone(ids)
	}
	return out
}

// Bytes is the HEC JSON received so far: decompressed (what Splunk
// parses) and as it came over the wire (gzip).
func (s *Sink) Bytes() (raw, wire int64) { return s.rawBytes.Load(), s.wireBytes.Load() }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Events is the number of events received, duplicates included.
func (s *Sink) Events() int64 { return s.events.Load() }

// Requests is the number of requests, refused ones included.
func (s *Sink) Requests() int64 { return s.requests.Load() }

// Check compares what arrived with what the sender was promised: acked
// ids that never arrived are lost; ids that arrived more than once are
// duplicates.
func (s *Sink) Check(acked *IDSet) (lost []string, duplicates int, unique int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acked.Each(func(id string) {
		if s.received[id] == 0 {
			lost = append(lost, id)
		}
	})
	for _, n := range s.received {
		if n > 1 {
			duplicates += n - 1
		}
	}
	return lost, duplicates, len(s.received)
}

// Count returns how many times id arrived.
func (s *Sink) Count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[id]
}
