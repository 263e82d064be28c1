// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// TestAgreesWithEncodingJSON checks the reader against the standard library
// on the seed corpus: same accept/reject decision, same values.
func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range seedCorpus() {
		checkAgainstStdlib(t, []byte(in))
	}
}

// FuzzParse checks the reader against encoding/json: what is valid JSON at
// any depth (SkipValue), and what an object decodes to (ParseObject, within
// the documented limits).
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
		`{"a":[{"a":1},{"b":[1.5,-2,"x"]}]}`,
		`{"s":"\ud83d\ude00 \u00e9"}`,
		`"\ud83d\ude00 \u00e9"`,
		`{"n":1e400,"m":-1e-400,"i":12345678901234567890,"z":-0,"f":-0.0}`,
		`[[[[[]]]]]`,
		`{"a":[[[[[]]]]]}`,
		`{"dup":1,"dup":"two"}`,
		"{\"k\xff\":\"\xff\xfe\"}",
		"\"\xff\xfe\"",
		`{"a":"\ud800","b":"\ud800\u0041","c":"\udc00x","d":"\ud800\ud800","\udc00":"\\ud800"}`,
		`  null  `,
		`  {"a":null}  `,
		`{"a":tru}`,
		`[1,2`,
		`{"a":[1,2`,
		"{\"a\":\"x\ty\"}",
		"{\"a\":\"\\n\x01\"}",
		`{"a":01}`,
		`{"a":"\x"}`,
		`{"a":1}{"b":2}`,
		"{\"a\":\"\\u00e9\xff\"}",
		`{"\u0041":1,"A":2}`,
		`{"a":NaN,"b":+1,"c":.5,"d":1.e3}`,
		`[{"d":{"a":1,"b":2,"c":3}},{"d":{"x":1}},{"d":{"a":1,"a":2,"b":[{"d":{}}]}}]`,
		`{"a":[` + strings.Repeat(`0,`, 1024) + `0]}`,
	}
}

func checkAgainstStdlib(t *testing.T, in []byte) {
	t.Helper()
	valid := json.Valid(in)
	if !valid {
		// encoding/json refuses values nested deeper than 10,000 levels,
		// which the reader steps over: only syntax is compared.
		var se *json.SyntaxError
		if err := json.Unmarshal(in, new(json.RawMessage)); errors.As(err, &se) && strings.Contains(se.Error(), "exceeded max depth") {
			return
		}
	}

	// SkipValue has no bounds: it agrees with the standard library on
	// every input, beyond the limits too.
	skip := newJSONReader(in, JSONLimits{})
	err := skip.SkipValue()
	if err == nil && skip.SkipSpace() {
		err = errors.New("trailing data")
	}
	if valid != (err == nil) {
		t.Fatalf("input %q: encoding/json valid=%v, SkipValue err=%v", in, valid, err)
	}
	var se *SyntaxError
	if errors.As(err, &se) && (se.Offset < 0 || se.Offset > len(in) || skip.Pos() != se.Offset) {
		t.Fatalf("input %q: error %v, reader at %d", in, err, skip.Pos())
	}
	if se != nil && strings.HasPrefix(se.Msg, "jsontext:") {
		t.Fatalf("input %q: error %v not explained", in, err)
	}

	r := newJSONReader(in, JSONLimits{})
	got := pcommon.NewMap()
	err = r.ParseObject(got)
	if err == nil && r.SkipSpace() {
		err = errors.New("trailing data")
	}
	if errors.As(err, &se) && (strings.HasPrefix(se.Msg, "jsontext:") || r.Pos() != se.Offset) {
		t.Fatalf("input %q: error %v not explained, or reader at %d", in, err, r.Pos())
	}
	var le *LimitError
	if errors.As(err, &le) {
		if !valid || le.Offset < 0 || le.Offset > len(in) {
			t.Fatalf("input %q: limit error %v on input valid=%v", in, le, valid)
		}
		return // beyond our documented bounds; the standard library has none
	}
	trimmed := bytes.TrimLeft(in, " \t\r\n")
	isObject := valid && len(trimmed) > 0 && trimmed[0] == '{'
	if isObject != (err == nil) {
		t.Fatalf("input %q: encoding/json valid object=%v, reader err=%v", in, isObject, err)
	}
	if !isObject {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	want := normalize(raw)

	check(t, in, "reader", want, got)
}

func check(t *testing.T, in []byte, decoder string, want any, got pcommon.Map) {
	t.Helper()
	// reflect.DeepEqual rather than assert.Equal: on a mismatch testify
	// renders a diff of both trees, which stalls the fuzzer on large inputs.
	if !reflect.DeepEqual(want, got.AsRaw()) {
		t.Fatalf("input %q: %s and encoding/json disagree", in, decoder)
	}
	for k, e := range got.All() {
		if !utf8.ValidString(k) {
			t.Fatalf("input %q: %s: invalid UTF-8 key %q", in, decoder, k)
		}
		assertUTF8(t, e)
	}
}

// normalize maps encoding/json's output onto the reader's documented
// number rules: integers that fit int64 are Int, other numbers Double, a
// literal beyond float64's range stays text.
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
	default:
		return v
	}
}
