// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestLimits(t *testing.T) {
	// The outer object is the first level.
	ok := `{"v":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`
	require.NoError(t, newJSONReader([]byte(ok), JSONLimits{}).ParseObject(pcommon.NewMap()))

	deep := `{"v":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `} {"next":1}`
	r := newJSONReader([]byte(deep), JSONLimits{})
	err := r.ParseObject(pcommon.NewMap())
	var le *LimitError
	require.ErrorAs(t, err, &le, "a broken limit is not a syntax error")
	assert.NotErrorAs(t, err, new(*SyntaxError))
	assert.Equal(t, "nesting deeper than 64 levels", le.Msg)
	assert.Equal(t, 5+63, le.Offset, "where the 65th level opens")
	assert.Equal(t, strings.Index(deep, " {"), r.Pos(), "the reader is past the value")
	next := pcommon.NewMap()
	require.NoError(t, r.ParseObject(next))
	assert.Equal(t, map[string]any{"next": int64(1)}, next.AsRaw())

	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
		}
		return b.String() + "}"
	}
	m := pcommon.NewMap()
	require.NoError(t, newJSONReader([]byte(keys(DefaultMaxObjectKeys)), JSONLimits{}).ParseObject(m))
	assert.Equal(t, DefaultMaxObjectKeys, m.Len())

	many := keys(DefaultMaxObjectKeys + 1)
	r = newJSONReader([]byte(`{"v":`+many+`} 7`), JSONLimits{})
	require.ErrorAs(t, r.ParseObject(pcommon.NewMap()), &le)
	assert.Equal(t, "object has more than 512 keys", le.Msg)
	assert.Equal(t, 5+strings.Index(many, `"k512"`), le.Offset, "where the 513th key starts")
	assert.Equal(t, len(`{"v":`+many+`}`), r.Pos())

	// Keys are counted per object: nested objects do not add up, and the
	// keys of one that closed do not count for the next.
	nested := `{"a":` + keys(400) + `,"b":` + keys(400) + `,"c":{"d":` + keys(500) + `}}`
	require.NoError(t, newJSONReader([]byte(nested), JSONLimits{}).ParseObject(pcommon.NewMap()))

	// The first bound broken, in the order of the text, is the one told.
	both := `{"a":` + many + `,"b":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`
	require.ErrorAs(t, newJSONReader([]byte(both), JSONLimits{}).ParseObject(pcommon.NewMap()), &le)
	assert.Equal(t, "object has more than 512 keys", le.Msg)
	both = `{"b":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `,"a":` + many + `}`
	require.ErrorAs(t, newJSONReader([]byte(both), JSONLimits{}).ParseObject(pcommon.NewMap()), &le)
	assert.Equal(t, "nesting deeper than 64 levels", le.Msg)

	// Limits given are honored.
	small := JSONLimits{MaxDepth: 2, MaxObjectKeys: 2}
	require.NoError(t, newJSONReader([]byte(`{"a":{"b":1,"c":2}}`), small).ParseObject(pcommon.NewMap()))
	require.ErrorAs(t, newJSONReader([]byte(`{"a":{"b":[]}}`), small).ParseObject(pcommon.NewMap()), &le)
	require.ErrorAs(t, newJSONReader([]byte(`{"a":1,"b":2,"c":3}`), small).ParseObject(pcommon.NewMap()), &le)
}

// A value beyond a limit that is also broken is a syntax error: the
// syntax error wins, wherever it is.
func TestBrokenBeyondLimits(t *testing.T) {
	for _, in := range []string{
		`{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 69) + `}`,
		`{"v":` + strings.Repeat("[", 70) + strings.Repeat("]", 70),
		`{"v":` + strings.Repeat(`{"a":`, 70) + `tru` + strings.Repeat("}", 70) + `}`,
	} {
		var se *SyntaxError
		require.ErrorAs(t, newJSONReader([]byte(in), JSONLimits{}).ParseObject(pcommon.NewMap()), &se, in)
	}
}

// A value beyond the limits is stepped over, up to the deepest the decoder
// reads, without a stack frame per level: the values after it are read.
func TestSkipValueBeyondLimits(t *testing.T) {
	const depth = maxDecoderDepth - 1 // and the outer object
	for _, open := range []string{`[`, `{"a":`} {
		closing := map[string]string{`[`: `]`, `{"a":`: `}`}[open]
		value := strings.Repeat(open, depth) + `1` + strings.Repeat(closing, depth)
		in := `{"v":` + value + `} {"next":1}`

		r := newJSONReader([]byte(in), JSONLimits{})
		var le *LimitError
		require.ErrorAs(t, r.ParseObject(pcommon.NewMap()), &le)
		assert.Equal(t, len(in)-len(` {"next":1}`), r.Pos())
		m := pcommon.NewMap()
		require.NoError(t, r.ParseObject(m))
		assert.Equal(t, map[string]any{"next": int64(1)}, m.AsRaw())

		r = newJSONReader([]byte(value+` "next"`), JSONLimits{})
		require.NoError(t, r.SkipValue())
		assert.Equal(t, len(value), r.Pos())
	}

	// A deep value that is also broken is a syntax error, not an endless
	// or unbounded skip.
	for _, bad := range []string{strings.Repeat("[", depth), strings.Repeat("[", depth) + "}", strings.Repeat(`{"a":`, depth) + "1]", strings.Repeat("[", 20*depth)} {
		var se *SyntaxError
		require.ErrorAs(t, newJSONReader([]byte(bad), JSONLimits{}).SkipValue(), &se)
	}
}

func TestSkipValue(t *testing.T) {
	in := `[1,{"a":[true,null,"x\"y"]},"s"] tail`
	r := newJSONReader([]byte(in), JSONLimits{})
	require.NoError(t, r.SkipValue())
	assert.Equal(t, strings.Index(in, " tail"), r.Pos())

	for _, in := range []string{`42,`, `"s"]`, `true}`, `null `, `-1.5e3,`} {
		r := newJSONReader([]byte(in), JSONLimits{})
		require.NoError(t, r.SkipValue(), in)
		assert.Equal(t, len(in)-1, r.Pos(), in)
	}
	for _, bad := range []string{`{"a" 1}`, `[1 2]`, `{"a":}`, `{`, `[`, `{"a":1`, `[1,]`, `{"a":1,}`, `{,}`, `[}`, `{"a":1]`, `{1:2}`, `[1,2`, `,`, `]`, `"a`, "\"a\nb\""} {
		r := newJSONReader([]byte(bad), JSONLimits{})
		assert.Error(t, r.SkipValue(), bad)
	}
}

func TestParseObjectRequiresObject(t *testing.T) {
	for in, msg := range map[string]string{
		`[]`:  "expecting '{', found '['",
		`"x"`: `expecting '{', found '"'`,
		`1`:   "expecting '{', found '1'",
		``:    "unexpected end of input, expecting '{'",
		`  `:  "unexpected end of input, expecting '{'",
	} {
		err := newJSONReader([]byte(in), JSONLimits{}).ParseObject(pcommon.NewMap())
		var se *SyntaxError
		require.ErrorAs(t, err, &se, in)
		assert.Equal(t, msg, se.Msg, in)
	}
}

// The receiver reuses its body buffers: nothing parsed may still point
// into the body afterwards, on either way of decoding.
func TestParsedValuesOwnTheirMemory(t *testing.T) {
	body := []byte(`{"log_id":"a1","data":{"type":"s","user_name":"ana","esc":"\u00e9\n","n":[1,"x"]}}` + "\n" +
		`{"log_id":"a2","data":{"type":"s","user_name":"bob","esc":"\ud800","n":[2,"y"]}}` + "\n" +
		`{"log_id":"a3","data":{"type":"s","user_name":"cy","n":[` + strings.Repeat(`"z",`, 1024) + `3]}}`)
	var got []pcommon.Map
	_, rejected, err := WalkLogStream(body, DefaultLimits, func(rec pcommon.Map) { got = append(got, rec) })
	require.NoError(t, err)
	require.Empty(t, rejected)
	require.Len(t, got, 3)
	var want []map[string]any
	for _, m := range got {
		want = append(want, m.AsRaw())
	}
	for i := range body {
		body[i] = 'X'
	}
	for i := range got {
		assert.Equal(t, want[i], got[i].AsRaw(), "record %d changed with the body buffer", i)
	}

	action := []byte(`{"schema_version":1,"event_id":"e1","user":{"user_id":"u1"}}`)
	payload, h, err := ParseAction(action, DefaultLimits)
	require.NoError(t, err)
	wantAction := payload.AsRaw()
	for i := range action {
		action[i] = 'X'
	}
	assert.Equal(t, wantAction, payload.AsRaw())
	assert.Equal(t, "e1", h.ID)
}
