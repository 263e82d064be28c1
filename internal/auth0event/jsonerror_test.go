// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

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
