// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package loadtest drives a running collector the way Auth0 would, and
// stands in for Splunk behind it: a generator of realistic log stream
// batches, a sender that measures what the sender sees (accepted events,
// acknowledgement latency) and remembers what was acknowledged, a HEC sink
// that counts what arrives and can play an outage. The benchmark
// (cmd/bench) and the reliability suite (test/reliability) are built on it;
// starting and measuring the collector process is childproc's.
package loadtest // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/loadtest"

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// Mix is the share of each Auth0 type code among generated events.
type Mix map[string]float64

// defaultMix is a sign-in heavy tenant: mostly logins, some signups,
// failures, refresh-token exchanges and silent authentications.
var defaultMix = Mix{"s": 0.65, "ss": 0.05, "fp": 0.08, "f": 0.02, "sertft": 0.12, "ssa": 0.08}

// Format is the wire format of a batch.
type Format int

const (
	// FormatAuth0 is an Auth0 log stream batch in JSON lines.
	FormatAuth0 Format = iota
	// FormatHEC is the same events as the HEC events otelcol-config.yaml
	// sends for them (for the splunk_hec receiver): SignUps and Logins the
	// legacy Rule's object, every other event its Auth0 record, and the
	// index-time fields of the lean default plus auth0.log_id (IDField).
	FormatHEC
)

// Generator makes batches of Auth0 log events with unique log ids.
type Generator struct {
	// RunID prefixes every id, so that runs never collide.
	RunID string
	Mix   Mix
	// NewUserShare is the share of logins and signups by users never seen
	// before; the others come from ReturningUsers known users.
	NewUserShare   float64
	ReturningUsers int

	seq     atomic.Int64
	newUser atomic.Int64

	once     sync.Once
	cumul    []weighted
	template []segment
	rule     ruleValues
}

// ruleValues are the template's values that the Rule's object and the
// index-time fields repeat.
type ruleValues struct{ application, clientIP, userName, tenant string }

type weighted struct {
	code  string
	upper float64
}

// NewGenerator returns a generator with the default mix and 10% new users.
func NewGenerator(runID string) *Generator {
	return &Generator{RunID: runID, Mix: defaultMix, NewUserShare: 0.1, ReturningUsers: 1000}
}

func (g *Generator) init() {
	g.once.Do(func() {
		// In the order of the codes, so that one random source gives the
		// same events every time.
		total := 0.0
		for _, code := range slices.Sorted(maps.Keys(g.Mix)) {
			total += g.Mix[code]
			g.cumul = append(g.cumul, weighted{code, total})
		}
		for i := range g.cumul {
			g.cumul[i].upper /= total
		}
		g.template = compileTemplate()
		data := auth0test.Event{}.Data()
		g.rule = ruleValues{application: data["client_name"].(string), clientIP: data["ip"].(string), userName: data["user_name"].(string), tenant: data["tenant_name"].(string)}
	})
}

func (g *Generator) pick(r *rand.Rand) string {
	x := r.Float64()
	for _, w := range g.cumul {
		if x < w.upper {
			return w.code
		}
	}
	return g.cumul[len(g.cumul)-1].code
}

// The event template: a realistic record (auth0test.Event, about 1 KB)
// marshaled once with markers where the varying fields go, so that a batch
// costs appends rather than a JSON encoding per event: the load generator
// shares the machine with the collector it measures.
const (
	markID    = `\u0000ID\u0000`
	markType  = `\u0000TYPE\u0000`
	markUser  = `\u0000USER\u0000`
	markCount = `\u0000COUNT\u0000`
	markDate  = `\u0000DATE\u0000`
)

type segment struct {
	text string
	mark string // the field that follows text, "" for the last segment
}

func compileTemplate() []segment {
	ev := auth0test.Event{LogID: "\x00ID\x00", Type: "\x00TYPE\x00", UserID: "\x00USER\x00", LoginsCount: 7}
	data := ev.Data()
	data["date"] = "\x00DATE\x00"
	data["details"].(map[string]any)["stats"] = map[string]any{"loginsCount": "\x00COUNT\x00"}
	b, err := json.Marshal(map[string]any{"log_id": ev.LogID, "data": data})
	if err != nil {
		panic(err)
	}
	text := strings.ReplaceAll(string(b), `"`+markCount+`"`, markCount)
	var segs []segment
	for {
		at, mark := -1, ""
		for _, m := range []string{markID, markType, markUser, markCount, markDate} {
			if i := strings.Index(text, m); i >= 0 && (at < 0 || i < at) {
				at, mark = i, m
			}
		}
		if at < 0 {
			return append(segs, segment{text: text})
		}
		segs = append(segs, segment{text: text[:at], mark: mark})
		text = text[at+len(mark):]
	}
}

func (g *Generator) appendEvent(buf []byte, id, code, user string, count int, date string) []byte {
	for _, s := range g.template {
		buf = append(buf, s.text...)
		switch s.mark {
		case markID:
			buf = append(buf, id...)
		case markType:
			buf = append(buf, code...)
		case markUser:
			buf = append(buf, user...)
		case markCount:
			buf = strconv.AppendInt(buf, int64(count), 10)
		case markDate:
			buf = append(buf, date...)
		}
	}
	return buf
}

// decision is the signup processor's for a generated event: the signup or
// first login of a user never seen is a SignUp, a returning user's login a
// Login; a returning user's signup (already signed up) and every other
// type neither.
func decision(code string, loginsCount int) string {
	switch {
	case (code == "ss" || code == "s") && loginsCount == 1:
		return auth0event.EventSignUp
	case code == "s":
		return auth0event.EventLogin
	}
	return ""
}

// appendHECFields writes the "fields" otelcol-config.yaml sends for a
// generated event (the template's tenant and application), with the id.
func (g *Generator) appendHECFields(buf []byte, id, code, event string) []byte {
	buf = append(buf, `,"fields":{`...)
	if event != "" {
		buf = append(buf, `"auth0.event":"`...)
		buf = append(buf, event...)
		buf = append(buf, `",`...)
	}
	category := auth0event.KindUnknown.String()
	if ti, ok := auth0event.LookupType(code); ok {
		category = ti.Kind.String()
	}
	buf = append(buf, `"auth0.type":"`...)
	buf = append(buf, code...)
	buf = append(buf, `","auth0.category":"`...)
	buf = append(buf, category...)
	buf = append(buf, `","auth0.source":"log_stream","auth0.tenant":"`...)
	buf = append(buf, g.rule.tenant...)
	buf = append(buf, `","auth0.client_name":"`...)
	buf = append(buf, g.rule.application...)
	buf = append(buf, `","`...)
	buf = append(buf, IDField...)
	buf = append(buf, `":"`...)
	buf = append(buf, id...)
	return append(buf, `"}`...)
}

// appendRuleEvent writes the legacy Rule's object for a SignUp or Login.
func (g *Generator) appendRuleEvent(buf []byte, event, user string) []byte {
	buf = append(buf, `{"application":"`...)
	buf = append(buf, g.rule.application...)
	buf = append(buf, `","clientIP":"`...)
	buf = append(buf, g.rule.clientIP...)
	buf = append(buf, `","message":"`...)
	buf = append(buf, event...)
	buf = append(buf, `","userId":"`...)
	buf = append(buf, user...)
	buf = append(buf, `","userName":"`...)
	buf = append(buf, g.rule.userName...)
	return append(buf, `"}`...)
}

// NewUsers is how many never-seen users the generator has made so far.
func (g *Generator) NewUsers() int64 { return g.newUser.Load() }

// ReturningUserID names returning user n (0 <= n < ReturningUsers).
func (g *Generator) ReturningUserID(n int) string { return fmt.Sprintf("auth0|ret-%s-%d", g.RunID, n) }

// Batch is one request's worth of events.
type Batch struct {
	Body []byte
	IDs  []string
	// Gzipped tells the sender to set Content-Encoding: gzip.
	Gzipped bool
}

// Next makes a batch of n events in the given format, gzip-compressed if asked.
func (g *Generator) Next(r *rand.Rand, n int, format Format, gz bool) Batch {
	g.init()
	buf := make([]byte, 0, n*1100)
	ids := make([]string, 0, n)
	now := time.Now().UTC()
	date := now.Format("2006-01-02T15:04:05.000Z")
	for range n {
		id := g.RunID + "-" + strconv.FormatInt(g.seq.Add(1), 10)
		code := g.pick(r)
		var user string
		var count int
		if (code == "s" || code == "ss") && r.Float64() < g.NewUserShare {
			user = "auth0|new-" + g.RunID + "-" + strconv.FormatInt(g.newUser.Add(1), 10)
			count = 1
		} else {
			user = g.ReturningUserID(r.IntN(max(g.ReturningUsers, 1)))
			count = 2 + r.IntN(200)
		}
		if format == FormatHEC {
			buf = append(buf, `{"time":`...)
			buf = strconv.AppendFloat(buf, float64(now.UnixMilli())/1000, 'f', 3, 64)
			event := decision(code, count)
			buf = g.appendHECFields(buf, id, code, event)
			buf = append(buf, `,"event":`...)
			if event != "" {
				buf = g.appendRuleEvent(buf, event, user)
			} else {
				buf = g.appendEvent(buf, id, code, user, count, date)
			}
			buf = append(buf, '}')
		} else {
			buf = g.appendEvent(buf, id, code, user, count, date)
		}
		buf = append(buf, '\n')
		ids = append(ids, id)
	}
	if gz {
		var zbuf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zbuf, gzip.BestSpeed)
		_, _ = zw.Write(buf)
		_ = zw.Close()
		buf = zbuf.Bytes()
	}
	return Batch{Body: buf, IDs: ids, Gzipped: gz}
}
