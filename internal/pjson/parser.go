// Package pjson decodes JSON text straight into pdata values.
//
// The receiver's hot path is "bytes in, pcommon.Map out". Going through
// encoding/json and map[string]any costs a reflection walk, one interface
// allocation per value and a second copy into pdata; this parser writes each
// value into its pdata destination as it scans, so the only allocations left
// are the strings themselves and pdata's own slices.
//
// It accepts exactly RFC 8259 JSON, with two deliberate leniencies shared with
// encoding/json: invalid UTF-8 and lone surrogate escapes become U+FFFD (pdata
// strings must be valid UTF-8 for OTLP), and duplicate object keys keep the
// last value. Nesting depth and keys per object are bounded so that hostile
// input costs bounded stack and CPU.
package pjson // import "github.com/otelcol-auth0/otelcol-auth0/internal/pjson"

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

const (
	// DefaultMaxDepth bounds nesting. Auth0 log events nest about five levels.
	DefaultMaxDepth = 64
	// DefaultMaxObjectKeys bounds the keys of one object. pcommon.Map looks
	// keys up linearly, so building an object of n keys costs O(n²); the bound
	// keeps that cost per input byte small. Auth0 objects have a few dozen.
	DefaultMaxObjectKeys = 512
)

// Limits bound what one parse may build.
type Limits struct {
	MaxDepth      int
	MaxObjectKeys int
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{MaxDepth: DefaultMaxDepth, MaxObjectKeys: DefaultMaxObjectKeys}

// SyntaxError reports malformed input and the byte offset where it was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// LimitError reports well-formed input so far that breaks one of the
// parser's Limits, and the byte offset where it was found. Unlike after a
// SyntaxError, the value's end can still be found: SkipValue from the
// value's start steps over it.
type LimitError struct {
	Offset int
	Msg    string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// Parser scans one buffer. It is not safe for concurrent use; it is cheap to
// create and may be reset onto a new buffer.
type Parser struct {
	data   []byte
	pos    int
	limits Limits
	// scratch collects a string that needs unescaping or UTF-8 repair.
	scratch []byte
	// sizes holds, per key, how many members the last object under that key
	// had. The records of one request share their shape, so the next such
	// object gets its map allocated once at that size, not grown by append
	// (which for Auth0's 25-member "data" object allocates 2.5 times its
	// final size). Only the last size is kept: an object can cause at most
	// one allocation as large as an earlier, real object of its key. A fixed
	// array, not a map: an Auth0 record has about ten object keys, a scan of
	// them costs what a map lookup does, and a parser of one small object (an
	// Action's payload) allocates nothing for it.
	sizes [maxRememberedSizes]rememberedSize
}

type rememberedSize struct {
	key string
	n   int
}

// maxRememberedSizes bounds sizes, whose keys come from the input: the
// first keys of a request are remembered, later ones are not.
const maxRememberedSizes = 16

// NewParser returns a parser over data. Zero limits take the defaults.
func NewParser(data []byte, limits Limits) *Parser {
	p := &Parser{}
	p.Reset(data, limits)
	return p
}

// Reset points the parser at a new buffer.
func (p *Parser) Reset(data []byte, limits Limits) {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = DefaultMaxDepth
	}
	if limits.MaxObjectKeys <= 0 {
		limits.MaxObjectKeys = DefaultMaxObjectKeys
	}
	p.data = data
	p.pos = 0
	p.limits = limits
	p.sizes = [maxRememberedSizes]rememberedSize{}
}

// Pos is the offset of the next unread byte.
func (p *Parser) Pos() int { return p.pos }

// Seek moves the read position.
func (p *Parser) Seek(pos int) { p.pos = pos }

// Data is the buffer being parsed.
func (p *Parser) Data() []byte { return p.data }

// SkipSpace skips JSON whitespace and reports whether input remains.
func (p *Parser) SkipSpace() bool {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return true
		}
	}
	return false
}

// Peek returns the next byte without consuming it, or 0 at the end.
func (p *Parser) Peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// Consume consumes c if it is the next byte.
func (p *Parser) Consume(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// ParseValue parses one JSON value into dst.
func (p *Parser) ParseValue(dst pcommon.Value) error {
	return p.parseValue(dst, 0, "")
}

// ParseObject parses one JSON object into dst, which must be empty.
func (p *Parser) ParseObject(dst pcommon.Map) error {
	if !p.SkipSpace() {
		return p.errorf("unexpected end of input, expecting '{'")
	}
	if p.data[p.pos] != '{' {
		return p.errorf("expecting '{', found %s", p.describeNext())
	}
	return p.parseObject(dst, 1, "")
}

// SkipValue scans one JSON value without building anything, checking its
// syntax; used to step over values that are rejected for their type or for
// breaking a limit. It is not bounded by Limits: it keeps one byte per open
// container, not a stack frame, so any depth costs at most the input's size.
func (p *Parser) SkipValue() error {
	var open []byte // the closing byte of each open container
	for {
		// A value is expected here.
		if !p.SkipSpace() {
			return p.errorf("unexpected end of input, expecting a value")
		}
		c := p.data[p.pos]
		if c != '{' && c != '[' {
			if err := p.parseValue(pcommon.NewValueEmpty(), 0, ""); err != nil {
				return err
			}
		} else {
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			p.pos++
			if !p.SkipSpace() {
				return p.errorf("unexpected end of input")
			}
			if !p.Consume(closing) {
				open = append(open, closing)
				if closing == '}' {
					if err := p.skipKey(); err != nil {
						return err
					}
				}
				continue
			}
		}
		// A value ended: close what it ended, up to the next member.
		for {
			if len(open) == 0 {
				return nil
			}
			closing := open[len(open)-1]
			if !p.SkipSpace() {
				return p.errorf("unexpected end of input")
			}
			if p.Consume(closing) {
				open = open[:len(open)-1]
				continue
			}
			if !p.Consume(',') {
				return p.errorf("expecting ',' or '%c', found %s", closing, p.describeNext())
			}
			if closing == '}' {
				if err := p.skipKey(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// skipKey steps over an object key and its colon.
func (p *Parser) skipKey() error {
	if !p.SkipSpace() || p.data[p.pos] != '"' {
		return p.errorf("expecting object key string, found %s", p.describeNext())
	}
	if _, err := p.parseString(); err != nil {
		return err
	}
	if !p.SkipSpace() || !p.Consume(':') {
		return p.errorf("expecting ':' after object key, found %s", p.describeNext())
	}
	return nil
}

func (p *Parser) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *Parser) limitf(format string, args ...any) *LimitError {
	return &LimitError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *Parser) describeNext() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	c := p.data[p.pos]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// parseValue parses the value found under key (an array's elements are under
// the array's key).
func (p *Parser) parseValue(dst pcommon.Value, depth int, key string) error {
	if !p.SkipSpace() {
		return p.errorf("unexpected end of input, expecting a value")
	}
	switch c := p.data[p.pos]; c {
	case '{':
		return p.parseObject(dst.SetEmptyMap(), depth+1, key)
	case '[':
		return p.parseArray(dst.SetEmptySlice(), depth+1, key)
	case '"':
		s, err := p.parseString()
		if err != nil {
			return err
		}
		dst.SetStr(s)
		return nil
	case 't':
		if err := p.literal("true"); err != nil {
			return err
		}
		dst.SetBool(true)
		return nil
	case 'f':
		if err := p.literal("false"); err != nil {
			return err
		}
		dst.SetBool(false)
		return nil
	case 'n':
		// null leaves dst empty, which is how pdata spells null.
		return p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.parseNumber(dst)
		}
		return p.errorf("invalid character %s looking for beginning of value", p.describeNext())
	}
}

func (p *Parser) parseObject(dst pcommon.Map, depth int, key string) error {
	if depth > p.limits.MaxDepth {
		return p.limitf("nesting deeper than %d levels", p.limits.MaxDepth)
	}
	p.pos++ // '{'
	if !p.SkipSpace() {
		return p.errorf("unexpected end of input in object")
	}
	if p.Consume('}') {
		return nil
	}
	if n := p.rememberedSize(key); n > 1 {
		dst.EnsureCapacity(n)
	}
	for keys := 0; ; keys++ {
		if keys == p.limits.MaxObjectKeys {
			return p.limitf("object has more than %d keys", p.limits.MaxObjectKeys)
		}
		if !p.SkipSpace() {
			return p.errorf("unexpected end of input in object")
		}
		if p.data[p.pos] != '"' {
			return p.errorf("expecting object key string, found %s", p.describeNext())
		}
		member, err := p.parseKey()
		if err != nil {
			return err
		}
		if !p.SkipSpace() || !p.Consume(':') {
			return p.errorf("expecting ':' after object key, found %s", p.describeNext())
		}
		if err := p.parseValue(dst.PutEmpty(member), depth, member); err != nil {
			return err
		}
		if !p.SkipSpace() {
			return p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.rememberSize(key, dst.Len())
			return nil
		default:
			return p.errorf("expecting ',' or '}' in object, found %s", p.describeNext())
		}
	}
}

func (p *Parser) rememberedSize(key string) int {
	for i := range p.sizes {
		if p.sizes[i].n == 0 {
			return 0
		}
		if p.sizes[i].key == key {
			return p.sizes[i].n
		}
	}
	return 0
}

func (p *Parser) rememberSize(key string, n int) {
	for i := range p.sizes {
		if p.sizes[i].n == 0 || p.sizes[i].key == key {
			p.sizes[i] = rememberedSize{key: key, n: n}
			return
		}
	}
}

func (p *Parser) parseArray(dst pcommon.Slice, depth int, key string) error {
	if depth > p.limits.MaxDepth {
		return p.limitf("nesting deeper than %d levels", p.limits.MaxDepth)
	}
	p.pos++ // '['
	if !p.SkipSpace() {
		return p.errorf("unexpected end of input in array")
	}
	if p.Consume(']') {
		return nil
	}
	for {
		if err := p.parseValue(dst.AppendEmpty(), depth, key); err != nil {
			return err
		}
		if !p.SkipSpace() {
			return p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.errorf("expecting ',' or ']' in array, found %s", p.describeNext())
		}
	}
}

func (p *Parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal, expecting %q", word)
	}
	p.pos += len(word)
	return nil
}

// parseNumber keeps integers that fit int64 as Int (user counts, epoch
// milliseconds) and everything else as Double, as pdata has no arbitrary
// precision type.
func (p *Parser) parseNumber(dst pcommon.Value) error {
	start := p.pos
	isFloat := false
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.pos < len(p.data) && p.data[p.pos] >= '1' && p.data[p.pos] <= '9':
		p.skipDigits()
	default:
		return p.errorf("invalid number, expecting a digit, found %s", p.describeNext())
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		isFloat = true
		p.pos++
		if !p.skipDigits() {
			return p.errorf("invalid number, expecting a digit after '.', found %s", p.describeNext())
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		isFloat = true
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if !p.skipDigits() {
			return p.errorf("invalid number, expecting an exponent digit, found %s", p.describeNext())
		}
	}
	text := p.data[start:p.pos]
	if !isFloat {
		if n, ok := parseInt64(text); ok {
			dst.SetInt(n)
			return nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		// Only a literal beyond float64's range gets here (the syntax was
		// checked above). ±Inf cannot be encoded in JSON or OTLP-JSON
		// downstream, so the literal is kept as text instead of being lost.
		dst.SetStr(string(text))
		return nil
	}
	// Auth0 writes JSON from JavaScript, where every number is a float64,
	// so Double is exact for anything Auth0 can emit.
	dst.SetDouble(f)
	return nil
}

func (p *Parser) skipDigits() bool {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}

// parseInt64 converts an already validated integer literal without the
// allocation of strconv.ParseInt(string(b)).
func parseInt64(b []byte) (int64, bool) {
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true //nolint:gosec // bounded above
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// parseKey is parseString with interning of the keys Auth0 events repeat
// on every record, which saves one allocation per key.
func (p *Parser) parseKey() (string, error) {
	start := p.pos + 1
	for i := start; i < len(p.data); i++ {
		c := p.data[i]
		if c == '"' {
			if k, ok := internKey(p.data[start:i]); ok {
				p.pos = i + 1
				return k, nil
			}
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return p.parseString()
}

// parseString parses the string at p.pos, which is '"'.
func (p *Parser) parseString() (string, error) {
	start := p.pos + 1
	i := start
	for i < len(p.data) {
		c := p.data[i]
		if c == '"' {
			p.pos = i + 1
			return string(p.data[start:i]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	return p.parseStringSlow(start, i)
}

// parseStringSlow handles escapes, control characters and non-ASCII text,
// continuing from i with data[start:i] already known to be plain ASCII.
func (p *Parser) parseStringSlow(start, i int) (string, error) {
	buf := append(p.scratch[:0], p.data[start:i]...)
	for i < len(p.data) {
		c := p.data[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.scratch = buf
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(p.data) {
				p.pos = i
				return "", p.errorf("unexpected end of input in string escape")
			}
			switch e := p.data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				r, n, err := p.unicodeEscape(i)
				if err != nil {
					return "", err
				}
				buf = utf8.AppendRune(buf, r)
				i += n
			default:
				p.pos = i
				return "", p.errorf("invalid escape '\\%c' in string", e)
			}
		case c < 0x20:
			p.pos = i
			return "", p.errorf("invalid control character 0x%02x in string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(p.data[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\uFFFD"...)
			} else {
				buf = append(buf, p.data[i:i+size]...)
			}
			i += size
		}
	}
	p.pos = i
	return "", p.errorf("unexpected end of input in string")
}

// unicodeEscape decodes \uXXXX at data[i], joining a surrogate pair when one
// follows. It returns the rune and the number of bytes consumed.
func (p *Parser) unicodeEscape(i int) (rune, int, error) {
	r, ok := hex4(p.data, i+2)
	if !ok {
		p.pos = i
		return 0, 0, p.errorf("invalid \\u escape in string")
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if i+12 <= len(p.data) && p.data[i+6] == '\\' && p.data[i+7] == 'u' {
		if r2, ok := hex4(p.data, i+8); ok {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, 12, nil
			}
		}
	}
	return utf8.RuneError, 6, nil
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
