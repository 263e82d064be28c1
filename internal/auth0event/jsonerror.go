// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// fail turns an error of the decoder into the reader's error, and leaves
// the read position where it was found. limit is the bound the value broke
// before, if any.
func (r *jsonReader) fail(err error, limit *LimitError) error {
	if len(r.stack) >= maxDecoderDepth {
		// The decoder reads no deeper; the value may be well-formed.
		var se *jsontext.SyntacticError
		at := r.offset()
		if errors.As(err, &se) {
			at = r.base + int(se.ByteOffset)
		}
		r.pos = at
		if limit != nil {
			return &LimitError{Offset: limit.Offset, Msg: limit.Msg, endUnknown: true}
		}
		return errorAt(at, fmt.Sprintf("nesting deeper than %d levels", maxDecoderDepth))
	}
	se := r.explain()
	if se == nil {
		// The decoder refused what the explanation finds well-formed: its
		// own words ("jsontext: ..."), rather than none.
		at := r.offset()
		var jse *jsontext.SyntacticError
		if errors.As(err, &jse) {
			at = r.base + int(jse.ByteOffset)
		}
		se = errorAt(min(at, len(r.data)), err.Error())
	}
	r.pos = se.Offset
	return se
}

// explain says what is wrong with the bytes after the last token the
// decoder read, in the state it read them in, and where. The decoder says
// that something is; the reader's answers, which the receiver's clients
// see, name what was expected at the exact byte. It returns nil when it
// finds nothing wrong there.
func (r *jsonReader) explain() *SyntaxError {
	data := r.data
	p := skipSpace(data, r.offset())
	if len(r.stack) == 0 {
		return r.valueError(p, nil)
	}
	top := &r.stack[len(r.stack)-1]
	name := containerName(top.obj)
	switch top.state {
	case begun:
		if p == len(data) {
			return errorAt(p, "unexpected end of input in "+name)
		}
		if top.obj {
			return r.keyError(p)
		}
		return r.valueError(p, top)
	case named:
		if p == len(data) || data[p] != ':' {
			return errorAt(p, "expecting ':' after object key, found "+describeAt(data, p))
		}
		return r.valueError(skipSpace(data, p+1), top)
	default:
		return r.afterItem(p, top)
	}
}

// afterItem explains the bytes at p, after a member or an element of top.
func (r *jsonReader) afterItem(p int, top *frame) *SyntaxError {
	data := r.data
	if top == nil {
		return nil
	}
	name := containerName(top.obj)
	if p == len(data) {
		return errorAt(p, "unexpected end of input in "+name)
	}
	if data[p] != ',' {
		closing := ']'
		if top.obj {
			closing = '}'
		}
		return errorAt(p, fmt.Sprintf("expecting ',' or '%c' in %s, found %s", closing, name, describeAt(data, p)))
	}
	q := skipSpace(data, p+1)
	if top.obj {
		if q == len(data) {
			return errorAt(q, "unexpected end of input in object")
		}
		return r.keyError(q)
	}
	return r.valueError(q, top)
}

// keyError explains the object key expected at q.
func (r *jsonReader) keyError(q int) *SyntaxError {
	data := r.data
	if data[q] != '"' {
		return errorAt(q, "expecting object key string, found "+describeAt(data, q))
	}
	end, se := stringError(data, q)
	if se != nil {
		return se
	}
	p := skipSpace(data, end)
	if p == len(data) || data[p] != ':' {
		return errorAt(p, "expecting ':' after object key, found "+describeAt(data, p))
	}
	return nil
}

// valueError explains the value expected at q, in top (nil at the top
// level).
func (r *jsonReader) valueError(q int, top *frame) *SyntaxError {
	data := r.data
	if q == len(data) {
		return errorAt(q, "unexpected end of input, expecting a value")
	}
	var end int
	var se *SyntaxError
	switch c := data[q]; c {
	case '"':
		end, se = stringError(data, q)
	case 't', 'f', 'n':
		word := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
		if len(data)-q < len(word) || string(data[q:q+len(word)]) != word {
			return errorAt(q, fmt.Sprintf("invalid literal, expecting %q", word))
		}
		end = q + len(word)
	default:
		if c != '-' && (c < '0' || c > '9') {
			return errorAt(q, "invalid character "+describeAt(data, q)+" looking for beginning of value")
		}
		end, se = numberError(data, q)
	}
	if se != nil {
		return se
	}
	return r.afterItem(skipSpace(data, end), top)
}

// stringError finds the end of the string at data[q] ('"'), or what is
// wrong with it.
func stringError(data []byte, q int) (int, *SyntaxError) {
	for i := q + 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return i, errorAt(i, fmt.Sprintf("invalid control character 0x%02x in string", c))
		case c == '\\':
			if i+1 == len(data) {
				return i, errorAt(i, "unexpected end of input in string escape")
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return i, errorAt(i, `invalid \u escape in string`)
				}
				i += 5
			default:
				return i, errorAt(i, fmt.Sprintf("invalid escape '\\%c' in string", e))
			}
		}
	}
	return len(data), errorAt(len(data), "unexpected end of input in string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// numberError finds the end of the number at data[q] ('-' or a digit), or
// what is wrong with it.
func numberError(data []byte, i int) (int, *SyntaxError) {
	isDigit := func(i int) bool { return i < len(data) && data[i] >= '0' && data[i] <= '9' }
	digits := func(i int) int {
		for isDigit(i) {
			i++
		}
		return i
	}
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case isDigit(i):
		i = digits(i)
	default:
		return i, errorAt(i, "invalid number, expecting a digit, found "+describeAt(data, i))
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !isDigit(i) {
			return i, errorAt(i, "invalid number, expecting a digit after '.', found "+describeAt(data, i))
		}
		i = digits(i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !isDigit(i) {
			return i, errorAt(i, "invalid number, expecting an exponent digit, found "+describeAt(data, i))
		}
		i = digits(i)
	}
	return i, nil
}

func errorAt(i int, msg string) *SyntaxError {
	return &SyntaxError{Offset: i, Msg: msg}
}

func containerName(obj bool) string {
	if obj {
		return "object"
	}
	return "array"
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// describeAt names the byte at data[i] for an error message.
func describeAt(data []byte, i int) string {
	if i >= len(data) {
		return "end of input"
	}
	c := data[i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
