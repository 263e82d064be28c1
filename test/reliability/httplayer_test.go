// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build reliability

package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"
)

// Budgets of the HTTP layer (issue 14): what unauthenticated requests may
// add to the collector's peak resident memory, all of them together, and
// the resident memory no authenticated request may push it past.
const (
	unauthenticatedBudget = 64 << 20
	authenticatedCeiling  = 300 << 20
)

// everyCoding is the overlay that makes the receiver accept every coding
// it knows, so that each decoder meets its bombs in the binary.
const everyCoding = "receivers::auth0login::compression_algorithms: [gzip, deflate, zlib, zstd, snappy, x-snappy-framed, lz4]"

type httpAnswer struct {
	status int
	body   string
}

// post sends one request as an attacker would: any Content-Encoding, any
// Authorization (none when empty).
func post(t *testing.T, client *http.Client, url, coding, auth string, body []byte) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if coding != "" {
		req.Header.Set("Content-Encoding", coding)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, body: string(answer)}
}

// attack is one kind of request with the secret, and what it must get.
type attack struct {
	name     string
	coding   string
	body     []byte
	parallel int   // copies sent at once (1 when 0)
	want     []int // acceptable answers (503: no room in admission)
	contains string
	valid    []string // ids that must reach HEC
}

// TestHTTPLayerAttacks attacks the HTTP layer of the binary, run with the
// shipped otelcol-config.yaml, then with every coding enabled: every
// Content-Encoding a Go server might decode and an unknown one, each as a
// bomb and with the special bodies that declare more than they hold,
// without and with the secret; many tiny records; records beyond a parser
// limit inside arrays and JSON lines; pdata-heavy records. Resident memory
// is sampled throughout: unauthenticated requests must add less than
// 64 MiB to the peak, all together; no authenticated one may push it past
// 300 MiB; after every attack a normal record is accepted and reaches HEC.
func TestHTTPLayerAttacks(t *testing.T) {
	bombs, err := hostile.Bombs()
	require.NoError(t, err)
	gz := func(b []byte) []byte { out, err := hostile.Encode("gzip", b); require.NoError(t, err); return out }

	for _, setup := range []struct {
		name     string
		overlays []string
	}{
		{"shipped config", nil},
		{"every coding", []string{everyCoding}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			all := setup.overlays != nil
			sink := startSink(t)
			c := start(t, collectorOptions{storage: t.TempDir(), hec: sink.URL(), overlays: setup.overlays})
			url := "http://" + c.Receiver + "/auth0/logs"
			client := loadtest.NewSender(url, "").Client
			normal := func(t *testing.T, id string) {
				t.Helper()
				r := post(t, client, url, "", "Bearer "+receiverSecret, []byte(line(id)))
				require.Equal(t, http.StatusOK, r.status, "a normal record right after: %s", r.body)
				assert.Eventually(t, func() bool { return sink.Count(id) == 1 }, 30*time.Second, 100*time.Millisecond, "%s reaches HEC", id)
			}
			normal(t, "warm-up")
			time.Sleep(time.Second)
			rssBefore, _ := c.Memory()
			figures := map[string]any{"rss_start": mib(rssBefore)}

			// Without the secret: every body, every coding, refused before
			// a byte of it is read.
			require.NoError(t, childproc.ResetPeak(c.Pid()))
			stop := c.SampleAnon()
			anonBefore, _, err := childproc.MemoryDetail(c.Pid())
			require.NoError(t, err)
			unauth := append(slices.Clone(bombs), hostile.Body{Name: "two codings", Coding: "gzip, gzip", Body: gz(gz([]byte("{}")))})
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			n := 0
			for round := range pick(2, 5) {
				for _, b := range unauth {
					for _, auth := range []string{"", "Bearer not-the-secret", receiverSecret + "x"} {
						n++
						wg.Add(1)
						sem <- struct{}{}
						go func() {
							defer wg.Done()
							defer func() { <-sem }()
							//nolint:testifylint // wg.Done is deferred: a FailNow here ends this goroutine and fails the test
							r := post(t, client, url, b.Coding, auth, b.Body)
							assert.Equal(t, http.StatusUnauthorized, r.status, "round %d: %s, Authorization %q: %s", round, b.Name, auth, r.body)
						}()
					}
				}
			}
			wg.Wait()
			anonPeak := stop()
			_, rssPeak := c.Memory()
			figures["unauthenticated_requests"] = n
			figures["unauthenticated_rss_peak"] = mib(rssPeak)
			figures["unauthenticated_rss_added"] = mib(rssPeak - rssBefore)
			figures["unauthenticated_anon_added"] = mib(anonPeak - anonBefore)
			assert.Less(t, rssPeak-rssBefore, int64(unauthenticatedBudget), "resident memory added by %d unauthenticated requests", n)
			normal(t, "after-unauthenticated")

			// With the secret.
			refusedUnlessAll := func(coding string) []int {
				if all || coding == "gzip" || coding == "x-gzip" || coding == "" {
					return []int{http.StatusRequestEntityTooLarge}
				}
				return []int{http.StatusUnsupportedMediaType}
			}
			var attacks []attack
			for _, b := range bombs {
				a := attack{name: b.Name, coding: b.Coding, body: b.Body, want: refusedUnlessAll(b.Coding)}
				switch {
				case b.Coding == "br":
					a.want = []int{http.StatusUnsupportedMediaType}
				case b.Name == "lz4 legacy magic run" && all:
					a.want = []int{http.StatusBadRequest}
				}
				attacks = append(attacks, a)
			}
			gzipBomb, err := hostile.Bomb("gzip", ' ', 64)
			require.NoError(t, err)
			braces := bytes.Repeat(gz(bytes.Repeat([]byte("{}\n"), 1<<20/3)), 8)
			minimal := bytes.Repeat([]byte(`{"log_id":"1","type":"s"}`+"\n"), 10_001)
			heavy := heavyRecords("heavy", 3)
			attacks = append(attacks,
				attack{name: "16 gzip bombs at once", coding: "gzip", body: gzipBomb, parallel: 16, want: []int{413, 503}},
				attack{name: "8 KB of gzip: 8 MiB of {} lines", coding: "gzip", body: braces, want: []int{413}, contains: "max_request_body_size"},
				attack{name: "4 MiB of {} without newlines", body: bytes.Repeat([]byte("{}"), 2<<20), want: []int{413}, contains: "max_request_records"},
				attack{name: "4 MiB of {} lines, gzip", coding: "gzip", body: gz(bytes.Repeat([]byte("{}\n"), 4<<20/3)), want: []int{413}, contains: "max_request_records"},
				attack{name: "10001 minimal records", body: minimal, want: []int{413}, contains: "max_request_records"},
				attack{name: "10001 minimal records, 16 at once", body: minimal, parallel: 16, want: []int{413, 503}},
				attack{name: "5000 {} and one record", body: append(bytes.Repeat([]byte("{}\n"), 5000), line("after-braces")...), want: []int{200}, contains: `"rejected":5000`, valid: []string{"after-braces"}},
				attack{name: "2 MiB of records beyond the parser's limits", body: limitBreaking(2 << 20), want: []int{200}, valid: []string{"lb-first", "lb-last"}},
			)
			for _, format := range []string{"array", "lines"} {
				for _, bad := range []string{"nesting", "keys"} {
					id := format + "-" + bad
					records := []string{line(id + "-1"), beyondLimit(bad), line(id + "-3"), line(id + "-4")}
					body := "[" + strings.Join(records, ",") + "]"
					if format == "lines" {
						body = strings.Join(records, "\n")
					}
					attacks = append(attacks, attack{
						name: fmt.Sprintf("%s beyond the %s limit in %s", id, bad, format), body: []byte(body),
						want: []int{200}, contains: `"accepted":3`, valid: []string{id + "-1", id + "-3", id + "-4"},
					})
				}
			}

			// Last, as the heap they leave stays resident a while.
			attacks = append(attacks,
				attack{name: "pdata-heavy records (arrays of empty arrays)", body: heavy, want: []int{200}, valid: []string{"heavy-0", "heavy-2"}},
				attack{name: "pdata-heavy records, 8 at once", body: heavyRecords("heavy-p", 3), parallel: 8, want: []int{200, 503}},
			)

			var worst int64
			for i, a := range attacks {
				before, _ := c.Memory()
				require.NoError(t, childproc.ResetPeak(c.Pid()))
				answers := make(chan httpAnswer, max(a.parallel, 1))
				var wg sync.WaitGroup
				for range max(a.parallel, 1) {
					wg.Go(func() { answers <- post(t, client, url, a.coding, "Bearer "+receiverSecret, a.body) })
				}
				wg.Wait()
				close(answers)
				statuses := map[int]int{}
				for r := range answers {
					statuses[r.status]++
					assert.Contains(t, a.want, r.status, "%s: %s", a.name, r.body)
					if r.status == a.want[0] && a.contains != "" {
						assert.Contains(t, r.body, a.contains, a.name)
					}
					assert.True(t, json.Valid([]byte(r.body)), "%s: answers are JSON", a.name)
				}
				for _, id := range a.valid {
					assert.Eventually(t, func() bool { return sink.Count(id) >= 1 }, 30*time.Second, 100*time.Millisecond, "%s: %s reaches HEC", a.name, id)
				}
				_, peak := c.Memory()
				worst = max(worst, peak)
				figures[fmt.Sprintf("secret_%02d %s", i, a.name)] = fmt.Sprintf("answers %v, rss %s, peak %s", statuses, mib(before), mib(peak))
				assert.Less(t, peak, int64(authenticatedCeiling), "%s: peak resident memory", a.name)
				normal(t, fmt.Sprintf("after-attack-%d", i))
			}
			rssAfter, _ := c.Memory()
			figures["authenticated_rss_peak"] = mib(worst)
			figures["rss_end"] = mib(rssAfter)
			assert.True(t, c.Running())
			report(t, figures)
		})
	}
}

// beyondLimit is a record beyond a parser limit: nested deeper than 64
// levels, or an object of more than 512 keys.
func beyondLimit(kind string) string {
	if kind == "nesting" {
		return `{"log_id":"deep","data":{"type":"s","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`
	}
	var b strings.Builder
	b.WriteString(`{"log_id":"keys","data":{"type":"s"`)
	for i := range 600 {
		fmt.Fprintf(&b, `,"k%d":1`, i)
	}
	b.WriteString("}}")
	return b.String()
}

// limitBreaking fills about size bytes with deep records between two
// valid ones, in a single-line array.
func limitBreaking(size int) []byte {
	deep := beyondLimit("nesting")
	var b strings.Builder
	b.WriteString("[" + line("lb-first"))
	for b.Len() < size-len(deep)-2000 {
		b.WriteString("," + deep)
	}
	b.WriteString("," + line("lb-last") + "]")
	return []byte(b.String())
}

// heavyRecords are n valid records of a little under 1 MiB (the default
// max_record_size) whose padding is an array of empty arrays: the JSON
// that makes the most pdata per byte.
func heavyRecords(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		rec := line(fmt.Sprintf("%s-%d", prefix, i))
		b.WriteString(`{"pad":[`)
		b.WriteString(strings.Repeat("[],", (1<<20-len(rec)-100)/3))
		b.WriteString("[]]," + rec[1:] + "\n")
	}
	return b.Bytes()
}
