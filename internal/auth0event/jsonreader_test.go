// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// readValue reads `{"v": in}` and returns v, so that every kind of value
// goes through ParseObject, the reader's one way to build.
func readValue(t *testing.T, in string) pcommon.Value {
	t.Helper()
	m := pcommon.NewMap()
	r := newJSONReader([]byte(`{"v":`+in+`}`), JSONLimits{})
	require.NoError(t, r.ParseObject(m))
	require.False(t, r.SkipSpace(), "trailing data")
	v, ok := m.Get("v")
	require.True(t, ok)
	return v
}

func TestReadValues(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`{}`, map[string]any{}},
		{`[]`, []any{}},
		{`"plain"`, "plain"},
		{`"esc \" \\ \/ \b \f \n \r \t"`, "esc \" \\ / \b \f \n \r \t"},
		{`"\u00e9t\u00E9"`, "été"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\uD83D\uDE00"`, "😀"},
		{`"lone \ud83d here"`, "lone \uFFFD here"},
		{`"lone low \ude00"`, "lone low \uFFFD"},
		{`"broken pair \ud800\u0041"`, "broken pair \uFFFDA"},
		{`"two highs \ud800\ud800"`, "two highs \uFFFD\uFFFD"},
		{`"escaped backslash \\ud800"`, `escaped backslash \ud800`},
		{`"not a surrogate \ud7ff\ue000"`, "not a surrogate \ud7ff\ue000"},
		{"\"caf\xc3\xa9\"", "café"},
		{"\"bad \xff byte\"", "bad \uFFFD byte"},
		{"\"bad \xff\xfe bytes\"", "bad \uFFFD\uFFFD bytes"},
		{`0`, int64(0)},
		{`-0`, int64(0)},
		{`42`, int64(42)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`-9223372036854775809`, -9223372036854775809.0},
		{`1.5`, 1.5},
		{`1.0`, 1.0},
		{`-2.5e3`, -2500.0},
		{`1E2`, 100.0},
		{`1e400`, "1e400"},
		{`-1e400`, "-1e400"},
		{`true`, true},
		{`false`, false},
		{`null`, nil},
		{` { "a" : [ 1 , "x" , null , { "b" : false } ] } `, map[string]any{"a": []any{int64(1), "x", nil, map[string]any{"b": false}}}},
		{`{"k":1,"k":2}`, map[string]any{"k": int64(2)}},
		{`{"\u0041":1,"A":2}`, map[string]any{"A": int64(2)}},
		{"{\"k\xff\":1}", map[string]any{"k\uFFFD": int64(1)}},
		{`{"\ud800":1}`, map[string]any{"\uFFFD": int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, readValue(t, tt.in).AsRaw())
		})
	}
}

// checkValue steps over the one value in "in": anything after it is an
// error.
func checkValue(in string) error {
	r := newJSONReader([]byte(in), JSONLimits{})
	if err := r.SkipValue(); err != nil {
		return err
	}
	if r.SkipSpace() {
		return errorAt(r.Pos(), "trailing data")
	}
	return nil
}

// Syntax errors say what is wrong and where: the offset of the byte where
// the value stops being valid JSON.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of input, expecting a value"},
		{`{`, 1, "unexpected end of input in object"},
		{`[`, 1, "unexpected end of input in array"},
		{`[1`, 2, "unexpected end of input in array"},
		{`{"a"}`, 4, "expecting ':' after object key, found '}'"},
		{`{"a"`, 4, "expecting ':' after object key, found end of input"},
		{`{"a":}`, 5, "invalid character '}' looking for beginning of value"},
		{`{"a":`, 5, "unexpected end of input, expecting a value"},
		{`{"a":1,}`, 7, "expecting object key string, found '}'"},
		{`{"a":1,`, 7, "unexpected end of input in object"},
		{`{"a":1 "b":2}`, 7, "expecting ',' or '}' in object, found '\"'"},
		{`[1,]`, 3, "invalid character ']' looking for beginning of value"},
		{`[1 2]`, 3, "expecting ',' or ']' in array, found '2'"},
		{`[1}`, 2, "expecting ',' or ']' in array, found '}'"},
		{`{"a":1]`, 6, "expecting ',' or '}' in object, found ']'"},
		{`"abc`, 4, "unexpected end of input in string"},
		{"\"a\nb\"", 2, "invalid control character 0x0a in string"},
		{`"\x"`, 1, `invalid escape '\x' in string`},
		{`"\`, 1, "unexpected end of input in string escape"},
		{`"\u12"`, 1, `invalid \u escape in string`},
		{`"\u12`, 1, `invalid \u escape in string`},
		{`tru`, 0, `invalid literal, expecting "true"`},
		{`nul`, 0, `invalid literal, expecting "null"`},
		{`fals`, 0, `invalid literal, expecting "false"`},
		{`01`, 1, "trailing data"},
		{`-`, 1, "invalid number, expecting a digit, found end of input"},
		{`-a`, 1, "invalid number, expecting a digit, found 'a'"},
		{`1.`, 2, "invalid number, expecting a digit after '.', found end of input"},
		{`1.e3`, 2, "invalid number, expecting a digit after '.', found 'e'"},
		{`1e`, 2, "invalid number, expecting an exponent digit, found end of input"},
		{`1e+`, 3, "invalid number, expecting an exponent digit, found end of input"},
		{`{1:2}`, 1, "expecting object key string, found '1'"},
		{`'a'`, 0, `invalid character '\'' looking for beginning of value`},
		{"\x00", 0, "invalid character byte 0x00 looking for beginning of value"},
		{"[\xff]", 1, "invalid character byte 0xff looking for beginning of value"},
		{`NaN`, 0, "invalid character 'N' looking for beginning of value"},
		{`+1`, 0, "invalid character '+' looking for beginning of value"},
		{`.5`, 0, "invalid character '.' looking for beginning of value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := checkValue(tt.in)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.offset, se.Offset, se.Error())
			assert.Equal(t, tt.msg, se.Msg)
			assert.Equal(t, tt.msg+" at byte offset "+strconv.Itoa(tt.offset), se.Error())
		})
	}
}

// After a syntax error the reader stays where the error was found, in an
// object read for pdata as in a value stepped over.
func TestReaderStopsAtTheError(t *testing.T) {
	for _, in := range []string{`{"a":[1,2 3]}`, `{"a":"x` + "\n" + `"}`, `{"a":{"b":tru}}`} {
		r := newJSONReader([]byte(in), JSONLimits{})
		err := r.ParseObject(pcommon.NewMap())
		var se *SyntaxError
		require.ErrorAs(t, err, &se, in)
		assert.Equal(t, se.Offset, r.Pos(), in)

		r = newJSONReader([]byte(in), JSONLimits{})
		require.ErrorAs(t, r.SkipValue(), &se, in)
		assert.Equal(t, se.Offset, r.Pos(), in)
	}
}

func TestLimits(t *testing.T) {
	// The outer object is the first level.
	ok := `{"v":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`
	require.NoError(t, newJSONReader([]byte(ok), JSONLimits{}).ParseObject(pcommon.NewMap()))

	deep := `{"v":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `} {"next":1}`
	r := newJSONReader([]byte(deep), JSONLimits{})
	err := r.ParseObject(pcommon.NewMap())
	var le *LimitError
	require.ErrorAs(t, err, &le, "a broken limit is not a syntax error")
	assert.False(t, errors.As(err, new(*SyntaxError)))
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

	// Limits given are honoured.
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

// A value beyond the limits is stepped over whatever its depth, without a
// stack frame per level: the values after it are read.
func TestSkipValueBeyondLimits(t *testing.T) {
	const depth = 200000
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
	for _, bad := range []string{strings.Repeat("[", depth), strings.Repeat("[", depth) + "}", strings.Repeat(`{"a":`, depth) + "1]"} {
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
		`{"log_id":"a3","data":{"type":"s","user_name":"cy","n":[` + strings.Repeat(`"z",`, maxTreeValues) + `3]}}`)
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
