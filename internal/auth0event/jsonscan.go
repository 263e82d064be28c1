// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// scanned is what a scan learned about one well-formed JSON value.
type scanned struct {
	// start and end delimit the value; after an error, end is the error's
	// offset.
	start, end int
	// limit is the first bound of JSONLimits the value breaks, in the
	// order of the text; nil when it breaks none or bounds were not asked.
	limit *LimitError
	// values counts the value and those inside it.
	values int
	// surrogate is set when a string holds a \uD800-\uDFFF escape, which
	// fastjson does not decode as encoding/json does.
	surrogate bool
	// ascii is set when the bytes of the value's strings are all ASCII:
	// their escapes (surrogates aside) decode to valid UTF-8, so the
	// strings need no check.
	ascii bool
}

// scanner checks one JSON value and finds its end, without recursion and
// without building anything: it keeps the offset of each open container,
// not a stack frame, so a value of any depth costs at most its size.
// fastjson's Validate recurses without a bound, and encoding/json's scanner
// refuses values deeper than 10,000 levels, so neither can step over a value
// that only breaks our depth bound; and neither says where its error is.
//
// The grammar is RFC 8259's. The error messages and offsets are the ones
// the receiver's answers carry, which its tests pin.
type scanner struct {
	data []byte
	// open holds the offset of each open container; after a failed scan,
	// those still open at the error.
	open []int
	// keys counts the members begun in each open object while limits are
	// checked, which is while the depth is within them.
	keys   []int
	limits *JSONLimits // nil once a bound is broken, or when not asked
	res    scanned
}

// scan checks the value at data[start]. With limits it also checks them,
// and the first one broken is reported in the result: the value is
// well-formed and its end is known, so the caller can step over it.
func (s *scanner) scan(start int, limits *JSONLimits) (scanned, *SyntaxError) {
	s.open, s.keys, s.limits, s.res = s.open[:0], s.keys[:0], limits, scanned{start: start, ascii: true}
	end, err := s.value(start)
	s.res.end = end
	return s.res, err
}

func (s *scanner) value(i int) (int, *SyntaxError) {
	data := s.data
	for {
		// A value starts at i.
		i = skipSpace(data, i)
		if i == len(data) {
			return i, errorAt(i, "unexpected end of input, expecting a value")
		}
		s.res.values++
		var bad *SyntaxError
		switch c := data[i]; c {
		case '{', '[':
			s.push(i)
			i = skipSpace(data, i+1)
			if i == len(data) {
				return i, errorAt(i, "unexpected end of input in "+containerName(c))
			}
			if data[i] == c+2 { // '}' or ']'
				s.pop()
				i++
				break
			}
			if c == '{' {
				if s.limits != nil {
					s.keys[len(s.keys)-1] = 1
				}
				if i, bad = s.key(i); bad != nil {
					return i, bad
				}
			}
			continue
		case '"':
			i, bad = s.str(i)
		case 't':
			i, bad = s.literal(i, "true")
		case 'f':
			i, bad = s.literal(i, "false")
		case 'n':
			i, bad = s.literal(i, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return i, errorAt(i, "invalid character "+describeAt(data, i)+" looking for beginning of value")
			}
			i, bad = s.number(i)
		}
		if bad != nil {
			return i, bad
		}

		// A value ended: close the containers it ends, up to the next value.
		for {
			if len(s.open) == 0 {
				return i, nil
			}
			opening := data[s.open[len(s.open)-1]]
			i = skipSpace(data, i)
			if i == len(data) {
				return i, errorAt(i, "unexpected end of input in "+containerName(opening))
			}
			if c := data[i]; c == opening+2 {
				s.pop()
				i++
				continue
			} else if c != ',' {
				return i, errorAt(i, fmt.Sprintf("expecting ',' or '%c' in %s, found %s", opening+2, containerName(opening), describeAt(data, i)))
			}
			i++
			if opening == '{' {
				s.countKey(i)
				i = skipSpace(data, i)
				if i == len(data) {
					return i, errorAt(i, "unexpected end of input in object")
				}
				if i, bad = s.key(i); bad != nil {
					return i, bad
				}
			}
			break
		}
	}
}

// push opens the container at data[i], checking the depth bound.
func (s *scanner) push(i int) {
	s.open = append(s.open, i)
	if s.limits == nil {
		return
	}
	if len(s.open) > s.limits.MaxDepth {
		s.broken(i, fmt.Sprintf("nesting deeper than %d levels", s.limits.MaxDepth))
		return
	}
	if s.data[i] == '{' {
		s.keys = append(s.keys, 0)
	}
}

// pop closes the innermost container. Limits are checked only while no
// container is deeper than they allow, so an object closed while they are
// checked was opened while they were, with its count.
func (s *scanner) pop() {
	if s.limits != nil && s.data[s.open[len(s.open)-1]] == '{' {
		s.keys = s.keys[:len(s.keys)-1]
	}
	s.open = s.open[:len(s.open)-1]
}

// countKey counts one more member of the innermost object, whose comma
// ends before data[i].
func (s *scanner) countKey(i int) {
	if s.limits == nil {
		return
	}
	n := &s.keys[len(s.keys)-1]
	if *n == s.limits.MaxObjectKeys {
		s.broken(i, fmt.Sprintf("object has more than %d keys", s.limits.MaxObjectKeys))
		return
	}
	*n++
}

// broken records the first bound broken; the others are no longer checked.
func (s *scanner) broken(i int, msg string) {
	s.res.limit = &LimitError{Offset: i, Msg: msg}
	s.limits = nil
}

func errorAt(i int, msg string) *SyntaxError {
	return &SyntaxError{Offset: i, Msg: msg}
}

func containerName(c byte) string {
	if c == '{' {
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

func (s *scanner) literal(i int, word string) (int, *SyntaxError) {
	if len(s.data)-i < len(word) || string(s.data[i:i+len(word)]) != word {
		return i, errorAt(i, fmt.Sprintf("invalid literal, expecting %q", word))
	}
	return i + len(word), nil
}

// key steps over an object key, at data[i], and its colon.
func (s *scanner) key(i int) (int, *SyntaxError) {
	data := s.data
	if data[i] != '"' {
		return i, &SyntaxError{Offset: i, Msg: "expecting object key string, found " + describeAt(data, i)}
	}
	i, bad := s.str(i)
	if bad != nil {
		return i, bad
	}
	i = skipSpace(data, i)
	if i == len(data) || data[i] != ':' {
		return i, &SyntaxError{Offset: i, Msg: "expecting ':' after object key, found " + describeAt(data, i)}
	}
	return i + 1, nil
}

// str steps over the string at data[i] ('"'), a key or a value.
func (s *scanner) str(i int) (int, *SyntaxError) {
	data := s.data
	for i++; i < len(data); i++ {
		c := data[i]
		if !strSpecial[c] {
			continue
		}
		if c >= utf8.RuneSelf {
			s.res.ascii = false
			continue
		}
		if c == '"' {
			return i + 1, nil
		}
		if c < 0x20 {
			return i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("invalid control character 0x%02x in string", c)}
		}
		if i+1 == len(data) {
			return i, &SyntaxError{Offset: i, Msg: "unexpected end of input in string escape"}
		}
		switch e := data[i+1]; e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+6 > len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
				return i, &SyntaxError{Offset: i, Msg: `invalid \u escape in string`}
			}
			// D800-DFFF: the letters sort after '8' and '9'.
			if (data[i+2] == 'd' || data[i+2] == 'D') && data[i+3] >= '8' {
				s.res.surrogate = true
			}
			i += 5
		default:
			return i, &SyntaxError{Offset: i, Msg: fmt.Sprintf("invalid escape '\\%c' in string", e)}
		}
	}
	return i, &SyntaxError{Offset: i, Msg: "unexpected end of input in string"}
}

// strSpecial marks the bytes that end a string's plain ASCII run: its
// quote, an escape, a control character, a byte beyond ASCII.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number steps over the number at data[i] ('-' or a digit).
func (s *scanner) number(i int) (int, *SyntaxError) {
	data := s.data
	digits := func(i int) int {
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
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
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = digits(i)
	default:
		return i, &SyntaxError{Offset: i, Msg: "invalid number, expecting a digit, found " + describeAt(data, i)}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if j := digits(i); j > i {
			i = j
		} else {
			return i, &SyntaxError{Offset: i, Msg: "invalid number, expecting a digit after '.', found " + describeAt(data, i)}
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if j := digits(i); j > i {
			i = j
		} else {
			return i, &SyntaxError{Offset: i, Msg: "invalid number, expecting an exponent digit, found " + describeAt(data, i)}
		}
	}
	return i, nil
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
