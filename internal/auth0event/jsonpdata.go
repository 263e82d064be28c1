// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// builder turns the scalars and keys the decoder reads into pdata values.
type builder struct {
	keys    keyCache
	scratch []byte // unquoted strings, before their copy
	// shapes holds the last object read under each key ([0]), and the
	// last object read as an element of an array under each key ([1]).
	shapes [2]map[string]*shape
}

// shape is what the last object under a key held: its size, its keys in
// order, and the strings that were their values in this body. Records of
// a body share their shape: a map given its size at once is not copied as
// it grows, a key found where it was last time needs no look-up, and a
// value found again (a client, a connection, a user agent) is shared
// instead of copied.
type shape struct {
	n    int
	keys []string
	vals []string
}

// rootName is the name under which the shape of records is kept.
const rootName = "\x00"

// maxShapeKeys bounds the keys a shape remembers.
const maxShapeKeys = 64

// shape returns the shape kept for objects under name, or for the objects
// in an array under name (elems); nil when there is no room for another.
func (b *builder) shape(name string, elems bool) *shape {
	shapes := &b.shapes[0]
	if elems {
		shapes = &b.shapes[1]
	}
	if sh, ok := (*shapes)[name]; ok {
		return sh
	}
	if len(*shapes) >= maxCachedKeys {
		return nil
	}
	if *shapes == nil {
		*shapes = make(map[string]*shape, 16)
	}
	sh := &shape{}
	(*shapes)[name] = sh
	return sh
}

// keyAt returns the key v (as the decoder read it, quoted) of the i-th
// member of an object of shape sh, and notes it there.
func (b *builder) keyAt(sh *shape, i int, v jsontext.Value) string {
	k := b.unquoted(v)
	if sh != nil && i < len(sh.keys) && sh.keys[i] == string(k) {
		return sh.keys[i]
	}
	s := b.key(k)
	if sh != nil && i < maxShapeKeys {
		if i < len(sh.keys) {
			sh.keys[i] = s
		} else if i == len(sh.keys) {
			sh.keys = append(sh.keys, s)
		}
	}
	return s
}

// keyCache holds the object keys of the bodies a reader has read: records
// repeat them, and one copy serves them all.
type keyCache map[string]string

const (
	maxCachedKeys = 1024
	// maxCachedKeyLen keeps the keys of hostile bodies from holding much
	// memory in a pooled reader.
	maxCachedKeyLen = 64
)

// reset readies the builder for another body. Keys come from the input: a
// cache that filled up is emptied, so that a body of junk keys does not
// keep the keys of the next ones out.
func (b *builder) reset() {
	if len(b.keys) >= maxCachedKeys {
		clear(b.keys)
	}
	for _, shapes := range b.shapes {
		if len(shapes) >= maxCachedKeys {
			clear(shapes)
		}
	}
	b.forgetValues()
	if cap(b.scratch) > 64<<10 {
		b.scratch = nil
	}
}

// forgetValues drops the values the shapes hold: they are shared within a
// body only, and a pooled reader keeps none of them.
func (b *builder) forgetValues() {
	for _, shapes := range b.shapes {
		for _, sh := range shapes {
			clear(sh.vals)
			sh.vals = sh.vals[:0]
		}
	}
}

// scalar sets dst to the string, number or literal v, as the decoder read
// it, the value of the i-th member of an object of shape sh (nil when it
// has none).
func (b *builder) scalar(dst pcommon.Value, v jsontext.Value, sh *shape, i int) {
	switch v[0] {
	case '"':
		dst.SetStr(b.strAt(sh, i, v))
	case 't':
		dst.SetBool(true)
	case 'f':
		dst.SetBool(false)
	case 'n':
		// null leaves dst empty, which is how pdata spells null.
	default:
		setNumber(dst, v)
	}
}

// key returns the object key k, unquoted.
func (b *builder) key(k []byte) string {
	if s, ok := b.keys[string(k)]; ok {
		return s
	}
	s := validString(k)
	if len(b.keys) < maxCachedKeys && len(s) <= maxCachedKeyLen {
		if b.keys == nil {
			b.keys = make(keyCache, 64)
		}
		b.keys[s] = s
	}
	return s
}

// maxSharedLen bounds the values a shape shares.
const maxSharedLen = 256

// strAt returns the string v, as the decoder read it (quoted), the value
// of the i-th member of an object of shape sh, and notes it there.
func (b *builder) strAt(sh *shape, i int, v jsontext.Value) string {
	text := b.unquoted(v)
	if sh != nil && i < len(sh.vals) && sh.vals[i] == string(text) {
		return sh.vals[i]
	}
	s := validString(text)
	if sh != nil && i < maxShapeKeys && len(s) <= maxSharedLen {
		for len(sh.vals) <= i {
			sh.vals = append(sh.vals, "")
		}
		sh.vals[i] = s
	}
	return s
}

// unquoted is the text of the string v: v's own bytes when it holds no
// escape, else its decoding in the scratch buffer, valid until the next
// call.
func (b *builder) unquoted(v jsontext.Value) []byte {
	text := v[1 : len(v)-1]
	if bytes.IndexByte(text, '\\') < 0 {
		return text
	}
	// The decoder checked the syntax; what is left to report is invalid
	// UTF-8 and lone surrogates, which become U+FFFD.
	b.scratch, _ = jsontext.AppendUnquote(b.scratch[:0], v)
	return b.scratch
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
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
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
