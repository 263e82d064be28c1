// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// fastjsonParsers keep their buffers between records and requests.
var fastjsonParsers fastjson.ParserPool

// maxTreeValues is the most values a record may hold to be decoded by
// fastjson. fastjson builds a tree of the whole record before the walk
// copies it into pdata: a Value struct for each JSON value, and while its
// cache grows every smaller copy of it stays alive too. A record of many
// tiny values takes many times its size that way, far more than admission
// counts for it (docs/reliability.md). A record of more values is decoded
// from encoding/json's tokens instead, which build nothing but the pdata.
// Auth0 records hold a few dozen.
const maxTreeValues = 1024

// builder decodes the objects a jsonReader accepted into pdata.
type builder struct {
	keys    keyCache
	objects int // objects built, for keys
	num     []byte
	ascii   bool // the object being built has only ASCII strings
}

// object decodes v, an object the scanner accepted, into dst.
func (b *builder) object(dst pcommon.Map, data []byte, v scanned) error {
	b.objects++
	b.ascii = v.ascii
	text := data[v.start:v.end]
	if v.surrogate || v.values > maxTreeValues {
		return b.fromTokens(dst, text, v.start)
	}
	p := fastjsonParsers.Get()
	defer fastjsonParsers.Put(p)
	tree, err := p.ParseBytes(text)
	if err != nil {
		// The scanner accepted text: this is a disagreement of fastjson
		// with it, reported rather than trusted.
		return &SyntaxError{Offset: v.start, Msg: "fastjson refused what the scanner accepted: " + err.Error()}
	}
	o, err := tree.Object()
	if err != nil {
		return &SyntaxError{Offset: v.start, Msg: "fastjson refused what the scanner accepted: " + err.Error()}
	}
	b.putObject(dst, o)
	return nil
}

func (b *builder) putObject(dst pcommon.Map, o *fastjson.Object) {
	dst.EnsureCapacity(o.Len())
	o.Visit(func(key []byte, v *fastjson.Value) {
		b.putValue(dst.PutEmpty(b.key(key)), v)
	})
}

func (b *builder) putValue(dst pcommon.Value, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		b.putObject(dst.SetEmptyMap(), o)
	case fastjson.TypeArray:
		a, _ := v.Array()
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(a))
		for _, e := range a {
			b.putValue(s.AppendEmpty(), e)
		}
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		dst.SetStr(b.str(s))
	case fastjson.TypeNumber:
		b.num = v.MarshalTo(b.num[:0])
		setNumber(dst, b.num)
	case fastjson.TypeTrue:
		dst.SetBool(true)
	case fastjson.TypeFalse:
		dst.SetBool(false)
	}
	// null leaves dst empty, which is how pdata spells null.
}

// setNumber keeps integers that fit int64 as Int (user counts, epoch
// milliseconds) and everything else as Double, as pdata has no arbitrary
// precision type. Auth0 writes JSON from JavaScript, where every number is
// a float64, so Double is exact for anything Auth0 can emit.
func setNumber(dst pcommon.Value, text []byte) {
	if n, ok := parseInt64(text); ok {
		dst.SetInt(n)
		return
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		// Only a literal beyond float64's range gets here (the syntax was
		// checked). ±Inf cannot be encoded in JSON or OTLP-JSON
		// downstream, so the literal is kept as text instead of being lost.
		dst.SetStr(string(text))
		return
	}
	dst.SetDouble(f)
}

// parseInt64 converts an integer literal that fits int64, without the
// allocation of strconv.ParseInt(string(b)); ok is false for anything
// else, fractions and exponents included.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
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

// key returns an object key, one copy per distinct key of the body once
// the body has shown more than one object (an Action payload has one).
// Only valid UTF-8 is cached, so a key found needs no check.
func (b *builder) key(k []byte) string {
	if s, ok := b.keys[string(k)]; ok {
		return s
	}
	if b.objects < 2 || !b.ascii && !utf8.Valid(k) {
		return b.str(k)
	}
	s := string(k)
	if b.keys == nil {
		b.keys = make(keyCache, 64)
	}
	// Keys come from the input: the first ones of a body are kept.
	if len(b.keys) < maxCachedKeys {
		b.keys[s] = s
	}
	return s
}

// keyCache holds the object keys of one body: its records repeat them.
type keyCache map[string]string

const maxCachedKeys = 1024

// str copies a string of the object being built.
func (b *builder) str(s []byte) string {
	if b.ascii {
		return string(s)
	}
	return validString(s)
}

// validString copies b, each byte of invalid UTF-8 becoming U+FFFD as
// encoding/json does: pdata strings must be valid UTF-8 for OTLP.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		if c == utf8.RuneError && n == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}
