// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensionauth/extensionauthtest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hostile"
)

var (
	bombsOnce  sync.Once
	bombBodies []hostile.Body
	bombsErr   error
)

// bombs are bodies that decode, or claim to decode, to far more than the
// default limit (4 MiB), one or more for every coding.
func bombs(t testing.TB) []hostile.Body {
	bombsOnce.Do(func() { bombBodies, bombsErr = hostile.Bombs() })
	require.NoError(t, bombsErr)
	return bombBodies
}

func bomb(t testing.TB, coding string, fill byte, mib int) []byte {
	b, err := hostile.Bomb(coding, fill, mib)
	require.NoError(t, err)
	return b
}

// countOpens counts the decoders the receivers started afterwards make.
func countOpens(t *testing.T) *atomic.Int64 {
	saved := codecs
	var n atomic.Int64
	counted := map[string]codec{}
	for name, c := range saved {
		open := c.open
		c.open = func(body io.Reader, limit int64) (io.ReadCloser, error) {
			n.Add(1)
			return open(body, limit)
		}
		counted[name] = c
	}
	codecs = counted
	t.Cleanup(func() { codecs = saved })
	return &n
}

func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestNothingIsDecodedBeforeAuthentication: whatever the Content-Encoding
// and the body, a request without the secret (or refused by the auth
// extension) is answered 401, no decoder is made for it, and it costs a
// few KB, not what its body claims.
func TestNothingIsDecodedBeforeAuthentication(t *testing.T) {
	opens := countOpens(t)
	withRefusingExtension := func(c *Config) {
		c.Secret = ""
		c.ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("testauth")}})
	}
	refusing := hostWithExtensions{component.MustNewID("testauth"): extensionauthtest.NewErr(errorString("denied"))}
	receivers := map[string]*harness{
		"secret":                 startReceiver(t, consumertest.NewNop(), withAllCodings),
		"auth extension":         startReceiverWithHost(t, consumertest.NewNop(), refusing, withAllCodings, withRefusingExtension),
		"secret and extension":   startReceiverWithHost(t, consumertest.NewNop(), refusing, withAllCodings, func(c *Config) { withRefusingExtension(c); c.Secret = testSecret }),
		"default codings secret": startReceiver(t, consumertest.NewNop()),
	}
	bodies := slices.Concat(bombs(t), []hostile.Body{
		{Name: "two codings", Coding: "gzip, gzip", Body: encode(t, codingGzip, bomb(t, codingGzip, ' ', 64))},
		{Name: "identity and gzip", Coding: "identity, gzip", Body: bomb(t, codingGzip, ' ', 64)},
	})
	for name, h := range receivers {
		for _, b := range bodies {
			for _, auth := range []string{"", "Bearer wrong", testSecret + "x"} {
				before := allocated()
				r := h.post("/auth0/logs", b.Body, "Content-Encoding", b.Coding, "Authorization", auth)
				cost := allocated() - before
				assert.Equal(t, http.StatusUnauthorized, r.status, "%s: %s, Authorization %q", name, b.Name, auth)
				assert.Less(t, cost, uint64(1<<20), "%s: %s cost %d bytes before authentication", name, b.Name, cost)
			}
		}
	}
	assert.Zero(t, opens.Load(), "decoders made for unauthenticated requests")

	// The same bodies with the secret are decoded, and refused for what
	// they are: the counter counts.
	h := receivers["secret"]
	r := h.post("/auth0/logs", encode(t, codingGzip, auth0test.Lines(auth0test.Event{})), "Content-Encoding", codingGzip)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, int64(1), opens.Load())
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestBombsWithTheSecret: an authenticated sender's bombs, in every
// coding, are refused with 413 naming the limit once the decoded bytes
// reach it (or as soon as the body declares more), each costing a bounded
// allocation whatever it claims; a normal record goes through right after.
func TestBombsWithTheSecret(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, withAllCodings)
	limit := h.rcv.maxBody
	for _, b := range bombs(t) {
		t.Run(b.Name, func(t *testing.T) {
			before := allocated()
			r := h.post("/auth0/logs", b.Body, "Content-Encoding", b.Coding)
			cost := allocated() - before
			switch b.Name {
			case "lz4 legacy magic run":
				assert.Equal(t, http.StatusBadRequest, r.status, r.body)
				assert.Contains(t, r.body["error"], "legacy frame markers repeated")
			case "zstd frame asking for a 512 MiB window":
				assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
				assert.Contains(t, r.body["error"], "the zstd frame asks for a window larger than the receiver keeps")
			case "br bomb":
				assert.Equal(t, http.StatusUnsupportedMediaType, r.status, r.body)
			default:
				assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.body)
				assert.Contains(t, r.body["error"], "larger than max_request_body_size (4194304 bytes, counted after decompression)")
			}
			// The body's buffer grows by doubling up to the limit, plus the
			// decoder's own memory.
			working := int64(0)
			if name, c, err := h.rcv.codings.of(http.Header{"Content-Encoding": {b.Coding}}); err == nil && name != "" {
				working = c.workingMemory(limit)
			}
			bound := 3*uint64(limit) + uint64(working) + 2<<20
			if raceEnabled {
				// The race detector drops sync.Pool items at random, so a
				// decoder's pooled buffers may be allocated a second time.
				bound += uint64(working)
			}
			assert.Less(t, cost, bound, "bytes allocated for the request")

			id := "after-" + strings.ReplaceAll(b.Name, " ", "-")
			r = h.post("/auth0/logs", auth0test.Lines(auth0test.Event{LogID: id}))
			assert.Equal(t, http.StatusOK, r.status)
			assert.Contains(t, logIDs(sink), id)
		})
	}
	assertAdmissionFree(t, h)
}

// TestManyTinyRecords: bodies of a few bytes a record are bounded by
// max_request_records (413, nothing delivered), and records without
// log_id or type are malformed, counted, listed only for the first few.
func TestManyTinyRecords(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink)

	// The 8 KB gzip body: 8 MiB of "{}" lines decoded.
	lines := bytes.Repeat(encode(t, codingGzip, bytes.Repeat([]byte("{}\n"), 1<<20/3)), 8)
	r := h.post("/auth0/logs", lines, "Content-Encoding", codingGzip)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	assert.Contains(t, r.body["error"], "max_request_body_size")

	for name, body := range map[string][]byte{
		"{} lines":            bytes.Repeat([]byte("{}\n"), 4<<20/3),
		"{} without newlines": bytes.Repeat([]byte("{}"), 2<<20),
		"minimal records":     bytes.Repeat([]byte(`{"log_id":"1","type":"s"}`+"\n"), 10_001),
		"array of numbers":    []byte("[" + strings.Repeat("1,", 20_000) + "1]"),
	} {
		before := allocated()
		r := h.post("/auth0/logs", body)
		cost := allocated() - before
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, name)
		assert.Equal(t, "the request holds more than max_request_records (10000) records: send smaller batches", r.body["error"], name)
		assert.Less(t, cost, uint64(64<<20), "%s: bytes allocated", name)
	}
	assert.Zero(t, sink.LogRecordCount())

	r = h.post("/auth0/logs", append(bytes.Repeat([]byte("{}\n"), 5000), auth0test.Lines(auth0test.Event{LogID: "the-one"})...))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, float64(1), r.body["accepted"])
	assert.Equal(t, float64(5000), r.body["rejected"])
	require.Len(t, r.body["errors"], 20)
	assert.Contains(t, r.body["errors"].([]any)[0].(map[string]any)["error"], `record has no "log_id"`)
	assert.Equal(t, []string{"the-one"}, logIDs(sink))
}

// TestLimitBreakingRecordsOverHTTP is the finding 3: a single-line
// array of four records, one beyond a parser limit. The three others are
// delivered and the answer says what happened to the fourth.
func TestLimitBreakingRecordsOverHTTP(t *testing.T) {
	deep := `{"log_id":"deep","data":{"type":"s","x":` + strings.Repeat(`[`, 80) + strings.Repeat(`]`, 80) + `}}`
	var keys strings.Builder
	keys.WriteString(`{"log_id":"keys","data":{"type":"s"`)
	for i := range 600 {
		fmt.Fprintf(&keys, `,"k%d":1`, i)
	}
	keys.WriteString(`}}`)
	rec := func(id string) string { return string(bytes.TrimSpace(auth0test.Lines(auth0test.Event{LogID: id}))) }

	for name, bad := range map[string]string{"nesting": deep, "keys": keys.String()} {
		for _, format := range []string{"array", "lines"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				sink := new(consumertest.LogsSink)
				h := startReceiver(t, sink)
				ids := []string{name + format + "-1", name + format + "-3", name + format + "-4"}
				records := []string{rec(ids[0]), bad, rec(ids[1]), rec(ids[2])}
				body := "[" + strings.Join(records, ",") + "]"
				if format == "lines" {
					body = strings.Join(records, "\n")
				}
				r := h.post("/auth0/logs", []byte(body))
				require.Equal(t, http.StatusOK, r.status)
				assert.Equal(t, float64(3), r.body["accepted"])
				assert.Equal(t, float64(1), r.body["rejected"])
				msg := r.body["errors"].([]any)[0].(map[string]any)["error"].(string)
				assert.Contains(t, msg, "beyond the receiver's limits")
				assert.NotContains(t, msg, "invalid JSON")
				assert.Equal(t, ids, logIDs(sink))
			})
		}
	}

	h := startReceiver(t, consumertest.NewNop())
	action := `{"schema_version":1,"event_id":"e1","user":{"user_id":"auth0|1"},"extra":` + strings.Repeat(`{"a":`, 80) + `1` + strings.Repeat(`}`, 80) + `}`
	r := h.post("/auth0/actions", []byte(action))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, fmt.Sprint(r.body["errors"]), "payload is beyond the receiver's limits: nesting deeper than 64 levels")
}

// TestGeneratedRequests drives receivers of random configurations with
// generated requests: every coding and unknown ones, any header casing,
// several Content-Encoding members or lines, identity, whitespace, with,
// without and with a wrong secret, valid, corrupt and bomb bodies, with
// and without Content-Length. Each answer must be the model's, records
// reach the pipeline exactly when the answer is 200, and every request
// gives its admission back.
func TestGeneratedRequests(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 2))
	t.Logf("seed %d", seed)
	names := append(supportedCodings(), "x-gzip", "identity", "", "br", "compress", "GZIP", " zstd\t", "Snappy")
	requests := 60
	if testing.Short() {
		requests = 20
	}
	for cfgN := range 4 {
		configured := []string{}
		for _, name := range supportedCodings() {
			if rng.IntN(2) == 0 {
				configured = append(configured, name)
			}
		}
		sink := new(consumertest.LogsSink)
		h := startReceiver(t, sink, func(c *Config) {
			c.ServerConfig.CompressionAlgorithms = configured
			c.ServerConfig.MaxRequestBodySize = 64 << 10
			c.MaxRequestRecords = 50
		})
		accepted := newCodings(configured)
		var delivered []string
		for n := range requests {
			// Content-Encoding: 0 to 3 members, over 1 or 2 lines.
			var members []string
			for range rng.IntN(4) {
				members = append(members, names[rng.IntN(len(names))])
			}
			var lines []string
			if len(members) > 0 {
				split := rng.IntN(len(members) + 1)
				sep := []string{",", ", ", " ,\t"}[rng.IntN(3)]
				for _, part := range [][]string{members[:split], members[split:]} {
					if len(part) > 0 {
						lines = append(lines, strings.Join(part, sep))
					}
				}
			}
			var applied []string
			for _, m := range members {
				if m := strings.ToLower(strings.Trim(m, " \t")); !isIdentity(m) {
					applied = append(applied, m)
				}
			}
			coding := ""
			if len(applied) == 1 {
				coding = applied[0]
				if coding == "x-gzip" {
					coding = codingGzip
				}
			}
			auth := []string{"", testSecret, "Bearer " + testSecret, "Bearer nope"}[rng.IntN(4)]
			kind := []string{"valid", "valid", "corrupt", "bomb"}[rng.IntN(4)]
			id := fmt.Sprintf("gen-%d-%d", cfgN, n)
			plain := auth0test.Lines(auth0test.Event{LogID: id}, auth0test.Event{LogID: id + "-b"})
			if kind == "bomb" {
				plain = bytes.Repeat([]byte(" "), 1<<20)
			}
			body := encode(t, coding, plain)
			if kind == "corrupt" {
				// Cut short, or not JSON at all.
				body = body[:len(body)/2]
				if coding == "" {
					body = []byte("\xde\xad not JSON")
				}
			}

			_, known := accepted.accepted[coding]
			want := http.StatusOK
			switch {
			case auth != testSecret && auth != "Bearer "+testSecret:
				want = http.StatusUnauthorized
			case len(applied) > 1, len(applied) == 1 && !known:
				want = http.StatusUnsupportedMediaType
			case kind == "bomb":
				want = http.StatusRequestEntityTooLarge
			case kind == "corrupt":
				want = http.StatusBadRequest
			}

			var reader io.Reader = bytes.NewReader(body)
			if rng.IntN(2) == 0 {
				reader = io.MultiReader(reader) // no Content-Length: chunked
			}
			req, err := http.NewRequest(http.MethodPost, h.base+"/auth0/logs", reader)
			require.NoError(t, err)
			// Header names as a sender may spell them: the server
			// canonicalizes them.
			ceName := []string{"Content-Encoding", "content-encoding", "CONTENT-ENCODING"}[rng.IntN(3)]
			req.Header[ceName] = append(req.Header[ceName], lines...)
			if auth != "" {
				req.Header[[]string{"Authorization", "authorization"}[rng.IntN(2)]] = []string{auth}
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, want, resp.StatusCode, "seed %d, request %d: Content-Encoding %q (configured %q), %s body, Authorization %q: %s",
				seed, n, lines, configured, kind, auth, answer)
			if want == http.StatusOK {
				delivered = append(delivered, id, id+"-b")
			}
		}
		assert.Equal(t, delivered, logIDs(sink), "seed %d", seed)
		assertAdmissionFree(t, h)
	}
}

// TestHugeHeaders: header lines beyond 64 KiB are refused by the server
// (431) before any handler runs; Authorization headers of any size up to
// that are compared without harm.
func TestHugeHeaders(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop())
	body := auth0test.Lines(auth0test.Event{})
	req, err := http.NewRequest(http.MethodPost, h.base+"/auth0/logs", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Padding", strings.Repeat("x", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	r := h.post("/auth0/logs", body, "Authorization", "Bearer "+strings.Repeat("a", 40<<10))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	r = h.post("/auth0/logs", body, "Content-Encoding", strings.Repeat("gzip,", 8<<10))
	assert.Equal(t, http.StatusUnsupportedMediaType, r.status)
	assert.Less(t, len(fmt.Sprint(r.body["error"])), 400, "the answer does not echo the header")
}

// TestUnauthenticatedFloodIsCheap: many concurrent unauthenticated bombs
// cost the receiver what their headers cost.
func TestUnauthenticatedFloodIsCheap(t *testing.T) {
	h := startReceiver(t, consumertest.NewNop(), withAllCodings)
	bodies := bombs(t)
	before := allocated()
	var wg sync.WaitGroup
	for i := range 64 {
		b := bodies[i%len(bodies)]
		wg.Go(func() {
			r := h.post("/auth0/logs", b.Body, "Content-Encoding", b.Coding, "Authorization", "")
			assert.Equal(t, http.StatusUnauthorized, r.status)
		})
	}
	wg.Wait()
	assert.Less(t, allocated()-before, uint64(16<<20))
}
