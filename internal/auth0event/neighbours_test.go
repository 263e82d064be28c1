// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TestRandomBodiesDeliverEveryNeighbour generates bodies, as arrays (on
// one line or pretty printed), JSON lines and values on one line, that mix
// valid records, among them records the reader must take apart with care
// (invalid UTF-8, numbers beyond float64, surrogate escapes, more values
// than a thousand), with records beyond a limit, the
// offending value anywhere (in arrays too), and values that are not
// records. Every valid record is delivered, in order, with its content;
// every value is counted; every refused one is counted as rejected, never
// as invalid JSON.
func TestRandomBodiesDeliverEveryNeighbour(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 2))
	deep := func(n int) string { return strings.Repeat("[", n) + "0" + strings.Repeat("]", n) }
	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":%d`, i, i)
		}
		return b.String() + "}"
	}
	rec := func(id, extra string) string { return `{"log_id":"` + id + `","data":{"type":"s"` + extra + `}}` }

	type valid struct {
		extra string
		field string // the "data" field to check, and what it must hold
		want  any
	}
	valids := []valid{
		{"", "", nil},
		{",\"u\":\"a\xffb\xc3\"", "u", "a\uFFFDb\uFFFD"},
		{`,"n":1e400`, "n", "1e400"},
		{`,"n":-123456789012345678901234567890`, "n", -123456789012345678901234567890.0},
		{`,"n":9223372036854775807`, "n", int64(9223372036854775807)},
		{`,"s":"\ud83d\ude00\ud800x"`, "s", "😀\uFFFDx"},
		{`,"d":` + deep(DefaultMaxDepth-3), "", nil},
		{`,"k":` + keys(DefaultMaxObjectKeys), "", nil},
		{`,"m":[` + strings.Repeat(`1,`, 1024) + `2]`, "", nil},
	}
	beyond := []func(id string) (string, string){
		func(id string) (string, string) {
			return rec(id, `,"v":[1,`+deep(80)+`,2]`), "nesting deeper than 64 levels"
		},
		func(id string) (string, string) {
			return rec(id, `,"v":`+deep(maxDecoderDepth-10)), "nesting deeper than 64 levels"
		},
		func(id string) (string, string) {
			return rec(id, `,"v":[{},`+keys(DefaultMaxObjectKeys+1)+`]`), "object has more than 512 keys"
		},
		func(id string) (string, string) {
			return rec(id, ",\"v\":[\"\xff\","+deep(70)+",1e400]"), "nesting deeper than 64 levels"
		},
		func(string) (string, string) { return deep(1000), "record is a JSON array" },
		func(string) (string, string) { return `1e400`, "record is a JSON number" },
		func(string) (string, string) { return "\"\xff\"", "record is a JSON string" },
		func(id string) (string, string) { return `{"log_id":"` + id + `"}`, `record has no "type"` },
	}

	for n := range 400 {
		format := []string{"array", "pretty-array", "lines", "concatenated"}[rng.IntN(4)]
		var parts []string
		var want []string
		checks := map[string]valid{}
		msgs := map[int]string{} // the record's position, the error it gets
		bad := 0
		for i := range 1 + rng.IntN(10) {
			id := fmt.Sprintf("r%d-%d", n, i)
			if rng.IntN(2) == 0 {
				v := valids[rng.IntN(len(valids))]
				parts = append(parts, rec(id, v.extra))
				want = append(want, id)
				checks[id] = v
				continue
			}
			part, msg := beyond[rng.IntN(len(beyond))](id)
			parts = append(parts, part)
			msgs[len(parts)] = msg
			bad++
		}
		var body string
		switch format {
		case "array":
			body = "[" + strings.Join(parts, ",") + "]"
		case "pretty-array":
			body = "[\n  " + strings.Join(parts, ",\n  ") + "\n]\n"
		case "lines":
			body = strings.Join(parts, "\n")
		default:
			body = strings.Join(parts, " ")
		}
		var got []string
		out, err := ReadLogStream([]byte(body), DefaultLimits, func(rec pcommon.Map, h Header) {
			got = append(got, h.ID)
			v := checks[h.ID]
			if v.field == "" {
				return
			}
			data, _ := rec.Get("data")
			f, ok := data.Map().Get(v.field)
			require.True(t, ok, "seed %d: record %s lost %q", seed, h.ID, v.field)
			require.Equal(t, v.want, f.AsRaw(), "seed %d: record %s", seed, h.ID)
		})
		require.NoError(t, err, "seed %d, body %d", seed, n)
		require.Equal(t, want, got, "seed %d, body %d (%s)", seed, n, format)
		require.Equal(t, len(parts), out.Records, "seed %d, body %d (%s): every value counted", seed, n, format)
		require.Equal(t, bad, out.Rejected, "seed %d, body %d (%s): %+v", seed, n, format, out.Errors)
		for _, e := range out.Errors {
			require.Contains(t, e.Msg, msgs[e.Record], "seed %d, body %d: record %d", seed, n, e.Record)
			require.NotContains(t, e.Msg, "invalid JSON", "seed %d, body %d: well-formed values are not syntax errors", seed, n)
		}
	}
}
