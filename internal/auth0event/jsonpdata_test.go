// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"math"
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

// Records of a body share keys and values through their shape: a record
// whose value differs at the same place, whose keys come in another order,
// or whose value is invalid UTF-8 gets its own, and nothing of one body is
// shared with the next.
func TestShapesShareOnlyWhatIsEqual(t *testing.T) {
	body := []byte(`{"log_id":"1","type":"s","c":"app","d":{"x":"a","y":"b"},"p":[{"k":"v"}]}` + "\n" +
		`{"log_id":"2","type":"s","c":"app","d":{"y":"b","x":"a"},"p":[{"k":"w"},{"k":"v"}]}` + "\n" +
		`{"type":"f","log_id":"3","c":"ap\u0070","d":{"x":"a","y":"b","z":1},"p":[]}` + "\n" +
		"{\"log_id\":\"4\",\"type\":\"s\",\"c\":\"a\xffp\",\"d\":{\"x\":\"\\u0061\"},\"p\":[{\"k\":\"v\"}]}")
	var got []map[string]any
	_, rejected, err := WalkLogStream(body, DefaultLimits, func(rec pcommon.Map) { got = append(got, rec.AsRaw()) })
	require.NoError(t, err)
	require.Empty(t, rejected)
	want := []map[string]any{
		{"log_id": "1", "type": "s", "c": "app", "d": map[string]any{"x": "a", "y": "b"}, "p": []any{map[string]any{"k": "v"}}},
		{"log_id": "2", "type": "s", "c": "app", "d": map[string]any{"y": "b", "x": "a"}, "p": []any{map[string]any{"k": "w"}, map[string]any{"k": "v"}}},
		{"type": "f", "log_id": "3", "c": "app", "d": map[string]any{"x": "a", "y": "b", "z": int64(1)}, "p": []any{}},
		{"log_id": "4", "type": "s", "c": "a\uFFFDp", "d": map[string]any{"x": "a"}, "p": []any{map[string]any{"k": "v"}}},
	}
	assert.Equal(t, want, got)

	r := newJSONReader(body, DefaultJSONLimits)
	defer r.release()
	require.NoError(t, r.ParseObject(pcommon.NewMap()))
	require.NotEmpty(t, r.build.shapes[0][rootName].vals)
	r.build.forgetValues() // as release does
	for _, shapes := range r.build.shapes {
		for name, sh := range shapes {
			assert.Empty(t, sh.vals, "values under %q kept for the next body", name)
		}
	}
}

// The caches of a pooled reader are bounded, whatever keys a body holds.
func TestReaderCachesAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"log_id":"1","type":"s","v":[`)
	for i := range 3 * maxCachedKeys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"%d%s":{"a":"%s"}}`, i, strings.Repeat("k", 100*(i%2)), strings.Repeat("v", 300*(i%2)))
	}
	b.WriteString(`]}`)
	r := newJSONReader([]byte(b.String()), DefaultJSONLimits)
	defer r.release()
	require.NoError(t, r.ParseObject(pcommon.NewMap()))
	assert.LessOrEqual(t, len(r.build.keys), maxCachedKeys)
	for k := range r.build.keys {
		assert.LessOrEqual(t, len(k), maxCachedKeyLen)
	}
	for _, shapes := range r.build.shapes {
		assert.LessOrEqual(t, len(shapes), maxCachedKeys)
		for _, sh := range shapes {
			assert.LessOrEqual(t, len(sh.keys), maxShapeKeys)
			for _, v := range sh.vals {
				assert.LessOrEqual(t, len(v), maxSharedLen)
			}
		}
	}
}
