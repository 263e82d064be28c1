package pjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func parseOne(t testing.TB, in string) (pcommon.Value, error) {
	t.Helper()
	v := pcommon.NewValueEmpty()
	p := NewParser([]byte(in), Limits{})
	if err := p.ParseValue(v); err != nil {
		return v, err
	}
	if p.SkipSpace() {
		return v, p.errorf("trailing data")
	}
	return v, nil
}

func TestParseValues(t *testing.T) {
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
		{`"lone \ud83d here"`, "lone \uFFFD here"},
		{`"lone low \ude00"`, "lone low \uFFFD"},
		{"\"caf\xc3\xa9\"", "café"},
		{"\"bad \xff byte\"", "bad \uFFFD byte"},
		{`0`, int64(0)},
		{`-0`, int64(0)},
		{`42`, int64(42)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`1.5`, 1.5},
		{`-2.5e3`, -2500.0},
		{`1E2`, 100.0},
		{`1e400`, "1e400"},
		{`true`, true},
		{`false`, false},
		{`null`, nil},
		{` { "a" : [ 1 , "x" , null , { "b" : false } ] } `, map[string]any{"a": []any{int64(1), "x", nil, map[string]any{"b": false}}}},
		{`{"k":1,"k":2}`, map[string]any{"k": int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := parseOne(t, tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.AsRaw())
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of input"},
		{`{`, 1, "unexpected end of input in object"},
		{`{"a"}`, 4, "expecting ':'"},
		{`{"a":1,}`, 7, "expecting object key string"},
		{`{"a":1 "b":2}`, 7, "expecting ',' or '}'"},
		{`[1,]`, 3, "invalid character ']'"},
		{`[1 2]`, 3, "expecting ',' or ']'"},
		{`"abc`, 4, "unexpected end of input in string"},
		{"\"a\nb\"", 2, "invalid control character 0x0a"},
		{`"\x"`, 1, `invalid escape '\x'`},
		{`"\u12"`, 1, `invalid \u escape`},
		{`tru`, 0, `expecting "true"`},
		{`nul`, 0, `expecting "null"`},
		{`01`, 1, "trailing data"},
		{`-`, 1, "expecting a digit"},
		{`1.`, 2, "after '.'"},
		{`1e`, 2, "exponent digit"},
		{`{1:2}`, 1, "expecting object key string"},
		{`'a'`, 0, "invalid character '\\''"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseOne(t, tt.in)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.offset, se.Offset, se.Error())
			assert.Contains(t, se.Msg, tt.msg)
			assert.Contains(t, se.Error(), "at byte offset "+strconv.Itoa(tt.offset))
		})
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	_, err := parseOne(t, deep)
	var le *LimitError
	require.ErrorAs(t, err, &le, "a broken limit is not a syntax error")
	assert.Equal(t, "nesting deeper than 64 levels", le.Msg)
	assert.Equal(t, 64, le.Offset, "where the 65th level opens")
	var se *SyntaxError
	assert.False(t, errors.As(err, &se))

	ok := strings.Repeat("[", 64) + strings.Repeat("]", 64)
	_, err = parseOne(t, ok)
	require.NoError(t, err)

	var b strings.Builder
	b.WriteString("{")
	for i := range DefaultMaxObjectKeys + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString("}")
	_, err = parseOne(t, b.String())
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "object has more than 512 keys", le.Msg)
}

// After a LimitError the value can still be stepped over, whatever its
// depth, without a stack frame per level: the values after it are read.
func TestSkipValueBeyondLimits(t *testing.T) {
	const depth = 200000
	for _, open := range []string{`[`, `{"a":`} {
		closing := map[string]string{`[`: `]`, `{"a":`: `}`}[open]
		value := strings.Repeat(open, depth) + `1` + strings.Repeat(closing, depth)
		in := value + ` "next"`
		p := NewParser([]byte(in), Limits{})
		err := p.ParseValue(pcommon.NewValueEmpty())
		var le *LimitError
		require.ErrorAs(t, err, &le)

		p.Seek(0)
		require.NoError(t, p.SkipValue())
		assert.Equal(t, len(value), p.Pos())
		v := pcommon.NewValueEmpty()
		require.NoError(t, p.ParseValue(v))
		assert.Equal(t, "next", v.Str())
	}

	// A deep value that is also broken is a syntax error, not an endless
	// or unbounded skip.
	for _, bad := range []string{strings.Repeat("[", depth), strings.Repeat("[", depth) + "}", strings.Repeat(`{"a":`, depth) + "1]"} {
		p := NewParser([]byte(bad), Limits{})
		var se *SyntaxError
		require.ErrorAs(t, p.SkipValue(), &se)
	}
}

func TestSkipValue(t *testing.T) {
	in := `[1,{"a":[true,null,"x\"y"]},"s"] tail`
	p := NewParser([]byte(in), Limits{})
	require.NoError(t, p.SkipValue())
	assert.Equal(t, strings.Index(in, " tail"), p.Pos())

	for _, bad := range []string{`{"a" 1}`, `[1 2]`, `{"a":}`, `{`, `[`, `{"a":1`, `[1,]`, `{"a":1,}`, `{,}`, `[}`, `{"a":1]`, `{1:2}`, `[1,2`} {
		p := NewParser([]byte(bad), Limits{})
		assert.Error(t, p.SkipValue(), bad)
	}
}

func TestParseObjectRequiresObject(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `1`, ``, `  `} {
		p := NewParser([]byte(in), Limits{})
		err := p.ParseObject(pcommon.NewMap())
		assert.Error(t, err, in)
	}
}

// TestRememberedSizes checks that sizing an object's map from the last
// object under the same key costs at most one oversized map per real object
// of that size: a large object followed by many small ones under its key
// must not make every small one allocate the large size.
func TestRememberedSizes(t *testing.T) {
	var in strings.Builder
	in.WriteString(`{"a":{`)
	for i := range 500 {
		if i > 0 {
			in.WriteByte(',')
		}
		fmt.Fprintf(&in, `"k%d":%d`, i, i)
	}
	in.WriteString("}}")
	const small = 2000
	for range small {
		in.WriteString(`{"a":{"x":1}}`)
	}
	p := NewParser([]byte(in.String()), Limits{})
	require.NoError(t, p.ParseObject(pcommon.NewMap()))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range small {
		m := pcommon.NewMap()
		require.NoError(t, p.ParseObject(m))
		require.Equal(t, 1, m.Len())
	}
	runtime.ReadMemStats(&after)
	// A 500-member map is 16 KB; a 1-member one and its value about 200 B.
	perObject := (after.TotalAlloc - before.TotalAlloc) / small
	assert.Less(t, perObject, uint64(1024), "bytes allocated per small object")

	// Keys come from the input: more object keys than sizes are kept for
	// still parse as they should.
	in.Reset()
	in.WriteByte('{')
	for i := range 500 {
		if i > 0 {
			in.WriteByte(',')
		}
		fmt.Fprintf(&in, `"o%d":{"a":1,"b":2}`, i)
	}
	in.WriteByte('}')
	p.Reset([]byte(in.String()), Limits{})
	m := pcommon.NewMap()
	require.NoError(t, p.ParseObject(m))
	assert.Equal(t, 500, m.Len())
	for _, v := range m.All() {
		assert.Equal(t, 2, v.Map().Len())
	}
}

// TestAgreesWithEncodingJSON checks the parser against the standard library
// on the seed corpus and on every testdata file: same accept/reject decision,
// same values.
func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range seedCorpus() {
		checkAgainstStdlib(t, []byte(in))
	}
}

func FuzzParse(f *testing.F) {
	for _, in := range seedCorpus() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstStdlib(t, in)
	})
}

func seedCorpus() []string {
	return []string{
		`{"log_id":"90020","data":{"date":"2026-11-20T08:13:24.062Z","type":"s","details":{"stats":{"loginsCount":1}}}}`,
		`[{"a":1},{"b":[1.5,-2,"x"]}]`,
		`"\ud83d\ude00 \u00e9"`,
		`{"n":1e400,"m":-1e-400,"i":12345678901234567890}`,
		`[[[[[]]]]]`,
		`{"dup":1,"dup":"two"}`,
		"\"\xff\xfe\"",
		`{"a":"\ud800"}`,
		`  null  `,
		`{"a":tru}`,
		`[1,2`,
		`[{"d":{"a":1,"b":2,"c":3}},{"d":{"x":1}},{"d":{"a":1,"a":2,"b":[{"d":{}}]}}]`,
	}
}

func checkAgainstStdlib(t *testing.T, in []byte) {
	t.Helper()
	v := pcommon.NewValueEmpty()
	p := NewParser(in, Limits{})
	err := p.ParseValue(v)
	if err == nil && p.SkipSpace() {
		err = errors.New("trailing data")
	}
	valid := json.Valid(in)
	// SkipValue has no bounds: it agrees with the standard library on
	// every input, including those beyond the parser's limits.
	skip := NewParser(in, Limits{})
	skipErr := skip.SkipValue()
	if skipErr == nil && skip.SkipSpace() {
		skipErr = errors.New("trailing data")
	}
	if valid != (skipErr == nil) {
		t.Fatalf("input %q: encoding/json valid=%v, SkipValue err=%v", in, valid, skipErr)
	}
	var limitErr *LimitError
	if errors.As(err, &limitErr) {
		return // beyond our documented bounds; the standard library has none
	}
	if valid != (err == nil) {
		t.Fatalf("input %q: encoding/json valid=%v, pjson err=%v", in, valid, err)
	}
	if !valid {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var want any
	require.NoError(t, dec.Decode(&want))
	// reflect.DeepEqual rather than assert.Equal: on a mismatch testify
	// renders a diff of both trees, which stalls the fuzzer on large inputs.
	if got := v.AsRaw(); !reflect.DeepEqual(normalize(want), got) {
		t.Fatalf("input %q: pjson and encoding/json disagree", in)
	}
	assertValidUTF8(t, v)
}

// normalize maps encoding/json's output onto pjson's documented number rules.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s
		}
		return f
	case string:
		return strings.ToValidUTF8(x, "\uFFFD")
	default:
		return v
	}
}

func assertValidUTF8(t *testing.T, v pcommon.Value) {
	t.Helper()
	switch v.Type() {
	case pcommon.ValueTypeStr:
		assert.True(t, utf8.ValidString(v.Str()))
	case pcommon.ValueTypeMap:
		for k, e := range v.Map().All() {
			assert.True(t, utf8.ValidString(k))
			assertValidUTF8(t, e)
		}
	case pcommon.ValueTypeSlice:
		for i := range v.Slice().Len() {
			assertValidUTF8(t, v.Slice().At(i))
		}
	}
}
