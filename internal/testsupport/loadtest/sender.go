// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// IDSet is a concurrent set of event ids.
type IDSet struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// NewIDSet returns an empty set.
func NewIDSet() *IDSet { return &IDSet{ids: map[string]struct{}{}} }

// Add adds ids.
func (s *IDSet) Add(ids ...string) {
	s.mu.Lock()
	for _, id := range ids {
		s.ids[id] = struct{}{}
	}
	s.mu.Unlock()
}

// Len is the number of ids.
func (s *IDSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Each calls f for every id.
func (s *IDSet) Each(f func(string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.ids {
		f(id)
	}
}

// Sender posts batches to a receiver endpoint, as Auth0 would.
type Sender struct {
	URL           string
	Authorization string
	ContentType   string
	Client        *http.Client
	// Acked, when set, collects the ids of every batch answered 2xx: what
	// the collector promised to deliver.
	Acked *IDSet
}

// NewSender returns a sender with a client suited to sustained load.
func NewSender(url, authorization string) *Sender {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 256
	return &Sender{
		URL:           url,
		Authorization: authorization,
		ContentType:   "application/json",
		Client:        &http.Client{Transport: transport, Timeout: 60 * time.Second},
	}
}

// Result is one request's outcome.
type Result struct {
	Status  int
	Latency time.Duration
	Err     error
	Body    string
}

// Send posts one batch.
func (s *Sender) Send(ctx context.Context, b Batch) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(b.Body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", s.ContentType)
	if s.Authorization != "" {
		req.Header.Set("Authorization", s.Authorization)
	}
	if b.Gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Err: err, Latency: time.Since(start)}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	r := Result{Status: resp.StatusCode, Latency: time.Since(start), Body: string(body)}
	if r.Status/100 == 2 && s.Acked != nil {
		s.Acked.Add(b.IDs...)
	}
	return r
}

// Stats is what a load run saw from the sender's side.
type Stats struct {
	Elapsed        time.Duration
	Batches        int64
	SentEvents     int64
	AcceptedEvents int64
	// Refused counts non-2xx answers by status; Errors transport failures.
	Refused   map[int]int64
	Errors    int64
	Latencies []time.Duration // of accepted batches
}

// AcceptedPerSecond is the acknowledged event rate.
func (s Stats) AcceptedPerSecond() float64 {
	return float64(s.AcceptedEvents) / s.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p <= 100) of the accepted
// batches' acknowledgement latency.
func (s Stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(s.Latencies)
	slices.Sort(sorted)
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Load says what to send.
type Load struct {
	Generator *Generator
	BatchSize int
	Format    Format
	Gzip      bool
	// EventsPerSecond > 0 sends at that fixed rate (open loop: a slow
	// answer does not slow the sending); 0 sends as fast as answers come,
	// with Concurrency requests in flight.
	EventsPerSecond float64
	Concurrency     int
	Duration        time.Duration
}

// Run sends the load and returns what the sender saw.
func (s *Sender) Run(ctx context.Context, load Load) Stats {
	ctx, cancel := context.WithTimeout(ctx, load.Duration)
	defer cancel()
	var (
		mu    sync.Mutex
		stats = Stats{Refused: map[int]int64{}}
		wg    sync.WaitGroup
		seed  atomic.Uint64
	)
	record := func(b Batch, r Result) {
		mu.Lock()
		defer mu.Unlock()
		stats.Batches++
		stats.SentEvents += int64(len(b.IDs))
		switch {
		case r.Err != nil:
			stats.Errors++
		case r.Status/100 == 2:
			stats.AcceptedEvents += int64(len(b.IDs))
			stats.Latencies = append(stats.Latencies, r.Latency)
		default:
			stats.Refused[r.Status]++
		}
	}
	start := time.Now()
	if load.EventsPerSecond > 0 {
		interval := time.Duration(float64(time.Second) * float64(load.BatchSize) / load.EventsPerSecond)
		ticker := time.NewTicker(interval)
		r := rand.New(rand.NewPCG(seed.Add(1), 7))
		inflight := make(chan struct{}, 512)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-ticker.C:
				b := load.Generator.Next(r, load.BatchSize, load.Format, load.Gzip)
				select {
				case inflight <- struct{}{}:
				default:
					// The collector is this far behind: count the batch as refused
					// rather than letting goroutines pile up.
					record(b, Result{Status: http.StatusTooManyRequests})
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-inflight }()
					// Requests in flight finish even after the window.
					record(b, s.Send(context.WithoutCancel(ctx), b))
				}()
			}
		}
		ticker.Stop()
	} else {
		for range max(load.Concurrency, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed.Add(1), 7))
				for ctx.Err() == nil {
					b := load.Generator.Next(r, load.BatchSize, load.Format, load.Gzip)
					res := s.Send(context.WithoutCancel(ctx), b)
					record(b, res)
					if res.Err != nil || res.Status/100 != 2 {
						time.Sleep(10 * time.Millisecond)
					}
				}
			}()
		}
	}
	wg.Wait()
	stats.Elapsed = time.Since(start)
	return stats
}
