// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

const (
	// DefaultMaxDepth bounds nesting. Auth0 log events nest about five levels.
	DefaultMaxDepth = 64
	// DefaultMaxObjectKeys bounds the keys of one object. pcommon.Map looks
	// keys up linearly, so building an object of n keys costs O(n²); the
	// bound keeps that cost per input byte small. Auth0 objects have a few
	// dozen.
	DefaultMaxObjectKeys = 512
	// maxDecoderDepth is the deepest jsontext reads: a value nested deeper
	// cannot be stepped over, so its end is not known.
	maxDecoderDepth = 10000
)

// JSONLimits bound what one JSON value may build. Zero fields take the
// defaults.
type JSONLimits struct {
	MaxDepth      int
	MaxObjectKeys int
}

// DefaultJSONLimits are the limits used when none are given.
var DefaultJSONLimits = JSONLimits{MaxDepth: DefaultMaxDepth, MaxObjectKeys: DefaultMaxObjectKeys}

// SyntaxError reports malformed JSON and the byte offset where it was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// LimitError reports well-formed JSON that breaks one of the JSONLimits,
// and the byte offset where it was found: the bracket nested too deep, or
// the start of the member beyond the keys allowed.
type LimitError struct {
	Offset int
	Msg    string
	// endUnknown is set when the value is nested deeper than the decoder
	// reads (maxDecoderDepth): its end cannot be found, and the reader is
	// left where the decoder stopped, as after a SyntaxError.
	endUnknown bool
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// jsonReader reads the JSON values of one body into pdata. The top-level
// walk (logstream.go) steps over whitespace and delimiters itself; each
// value is read by jsontext, token by token, and an object is built into
// pdata as its tokens arrive, in one pass over its bytes.
//
// It accepts exactly RFC 8259 JSON, with two leniencies shared with
// encoding/json: invalid UTF-8 and lone surrogate escapes become U+FFFD
// (pdata strings must be valid UTF-8 for OTLP), and duplicate object keys
// keep the last value. Depth and keys per object are checked as the tokens
// arrive: past the first bound broken nothing more is built, and the value
// is stepped over without recursion so that the values after it are read;
// a syntax error anywhere in it still wins. Every string is copied:
// nothing built points into the body, whose buffer the receiver reuses.
//
// It is not safe for concurrent use.
type jsonReader struct {
	data   []byte
	pos    int
	limits JSONLimits
	// maxBuild, when positive, is the size beyond which a value stops being
	// built: it will be refused for its size, once its syntax and limits
	// are known.
	maxBuild int

	dec  *jsontext.Decoder
	src  bytes.Buffer // data[base:], which dec reads without a copy
	base int

	stack []frame
	build builder
	// examined counts the bytes that reads went through, to the end of
	// each value or to its error: what the tests bound to show that a body
	// costs time linear in its size.
	examined int
	failed   failedRead
}

// frame is one open container of the value being read.
type frame struct {
	start int // offset of its bracket
	obj   bool
	state frameState
	n     int // members or elements begun
	m     pcommon.Map
	s     pcommon.Slice
	// shape is, while building, the last shape of an object under the
	// same key, or for an array that of the last object in an array under
	// the same key; nil when it has none.
	shape *shape
}

type frameState uint8

const (
	begun     frameState = iota // after the bracket
	named                       // after an object key
	afterItem                   // after a member or an element
)

// failedRead is the last read that failed: where its value started, the
// containers still open at the error (ascending offsets), and the error.
//
// After a broken value the walk resumes on the next line, which may lie
// inside that value: a body of lines that each open a container and never
// close it would have every line read to the end of the body, a cost that
// grows with the square of its size. Kept here, it is not read again. A
// line never starts inside a string (a raw line break is an error in one),
// so from there the walk reads the tokens the failed read read: a value
// that starts at a container still open at the error reads the same bytes
// in the same state up to the error, and fails there the same way; one
// that starts at any other container of the broken value closes before the
// error, at the cost of its own bytes; strings, numbers and literals end
// on their line.
type failedRead struct {
	from int
	open []int
	at   int   // where the error was found
	err  error // a *SyntaxError, or a *LimitError whose end is unknown
}

// decoderOptions: the leniencies above. Duplicate keys need no tracking,
// as pdata keeps the last.
var decoderOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

var readers = sync.Pool{New: func() any {
	r := &jsonReader{}
	r.dec = jsontext.NewDecoder(&r.src, decoderOptions...)
	return r
}}

func newJSONReader(data []byte, limits JSONLimits) *jsonReader {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = DefaultMaxDepth
	}
	limits.MaxDepth = min(limits.MaxDepth, maxDecoderDepth)
	if limits.MaxObjectKeys <= 0 {
		limits.MaxObjectKeys = DefaultMaxObjectKeys
	}
	r, _ := readers.Get().(*jsonReader)
	r.data, r.pos, r.limits, r.maxBuild, r.examined = data, 0, limits, 0, 0
	r.failed.err = nil
	r.failed.open = r.failed.open[:0]
	r.build.reset()
	return r
}

// release returns the reader to the pool; it must not be used afterwards.
func (r *jsonReader) release() {
	// Nothing may keep the body, whose buffer the receiver reuses.
	r.data = nil
	r.src = bytes.Buffer{}
	r.dec.Reset(&r.src, decoderOptions...)
	r.build.forgetValues()
	clear(r.stack[:cap(r.stack)])
	r.stack = r.stack[:0]
	if cap(r.stack) > 1024 {
		r.stack = nil
	}
	readers.Put(r)
}

// Pos is the offset of the next unread byte.
func (r *jsonReader) Pos() int { return r.pos }

// Seek moves the read position.
func (r *jsonReader) Seek(pos int) { r.pos = pos }

// Data is the body being read.
func (r *jsonReader) Data() []byte { return r.data }

// SkipSpace skips JSON whitespace and reports whether input remains.
func (r *jsonReader) SkipSpace() bool {
	r.pos = skipSpace(r.data, r.pos)
	return r.pos < len(r.data)
}

// Peek returns the next byte without consuming it, or 0 at the end.
func (r *jsonReader) Peek() byte {
	if r.pos < len(r.data) {
		return r.data[r.pos]
	}
	return 0
}

// Consume consumes c if it is the next byte.
func (r *jsonReader) Consume(c byte) bool {
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// SkipValue checks the value at the read position and steps over it
// without building anything: limits do not apply. After a SyntaxError the
// position is where the error was found.
func (r *jsonReader) SkipValue() error {
	return r.read(pcommon.Map{}, false)
}

// ParseObject reads the object at the read position into dst, which must
// be empty, checking the syntax and the limits, and moves past it. After a
// LimitError the position is past the value too, and dst holds part of it;
// after a SyntaxError it is where the error was found.
func (r *jsonReader) ParseObject(dst pcommon.Map) error {
	if !r.SkipSpace() {
		return errorAt(r.pos, "unexpected end of input, expecting '{'")
	}
	if r.data[r.pos] != '{' {
		return errorAt(r.pos, "expecting '{', found "+describeAt(r.data, r.pos))
	}
	return r.read(dst, true)
}

// read reads the value at the read position, building it into dst when
// build is set (the value is then an object), and moves past it or to its
// error.
func (r *jsonReader) read(dst pcommon.Map, build bool) error {
	start := r.pos
	f := &r.failed
	covered := f.err != nil && start >= f.from && start < f.at
	if covered {
		if _, found := slices.BinarySearch(f.open, start); found {
			r.pos = f.at
			var se *SyntaxError
			var le *LimitError
			switch {
			case errors.As(f.err, &se):
				return &SyntaxError{Offset: se.Offset, Msg: se.Msg}
			case errors.As(f.err, &le):
				return &LimitError{Offset: le.Offset, Msg: le.Msg, endUnknown: true}
			}
		}
	}
	err := r.walk(dst, build, start)
	r.examined += r.pos - start
	// A failure inside the remembered one is a string, a number or a
	// literal, on one line: the remembered failure still covers more.
	if err != nil && !covered {
		var le *LimitError
		if !errors.As(err, &le) || le.endUnknown {
			f.from, f.at, f.err = start, r.pos, err
			f.open = f.open[:0]
			for _, c := range r.stack {
				f.open = append(f.open, c.start)
			}
		}
	}
	return err
}

// walk is read's one pass over the tokens of a value.
func (r *jsonReader) walk(dst pcommon.Map, build bool, start int) error {
	r.base = start
	r.src = *bytes.NewBuffer(r.data[start:])
	r.dec.Reset(&r.src, decoderOptions...)
	r.stack = r.stack[:0]
	d := r.dec
	checking := build // limits are checked until the first one broken
	var limit *LimitError
	var slot pcommon.Value // where the next value goes, while building
	name := rootName       // the key of slot, while building
	for {
		var top *frame
		if n := len(r.stack); n > 0 {
			top = &r.stack[n-1]
		}
		switch d.PeekKind() {
		case '{', '[':
			if _, err := d.ReadToken(); err != nil {
				return r.fail(err, limit)
			}
			open := r.offset() - 1
			obj := r.data[open] == '{'
			if top != nil {
				top.state = afterItem
				if !top.obj {
					top.n++
					if build {
						slot = top.s.AppendEmpty()
					}
				}
			}
			if checking && len(r.stack)+1 > r.limits.MaxDepth {
				limit = &LimitError{Offset: open, Msg: fmt.Sprintf("nesting deeper than %d levels", r.limits.MaxDepth)}
				checking, build = false, false
			}
			f := frame{start: open, obj: obj}
			if build {
				switch {
				case top == nil:
					f.m = dst
				case obj:
					f.m = slot.SetEmptyMap()
				default:
					f.s = slot.SetEmptySlice()
				}
				switch {
				case obj && (top == nil || top.obj):
					f.shape = r.build.shape(name, false)
				case obj:
					f.shape = top.shape
				case top != nil && top.obj:
					f.shape = r.build.shape(name, true)
				}
				if obj && f.shape != nil {
					f.m.EnsureCapacity(f.shape.n)
				}
			}
			r.stack = append(r.stack, f)
		case '}', ']':
			if _, err := d.ReadToken(); err != nil {
				return r.fail(err, limit)
			}
			if f := &r.stack[len(r.stack)-1]; build && f.obj && f.shape != nil {
				f.shape.n = f.n
			}
			r.stack = r.stack[:len(r.stack)-1]
			if len(r.stack) == 0 {
				r.pos = r.offset()
				if limit != nil {
					return limit
				}
				return nil
			}
		default:
			if top != nil && top.obj && top.state != named {
				v, err := d.ReadValue()
				if err != nil {
					return r.fail(err, limit)
				}
				top.state = named
				top.n++
				if checking && top.n > r.limits.MaxObjectKeys {
					limit = &LimitError{Offset: r.offset() - len(v), Msg: fmt.Sprintf("object has more than %d keys", r.limits.MaxObjectKeys)}
					checking, build = false, false
				}
				if build {
					name = r.build.keyAt(top.shape, top.n-1, v)
					slot = top.m.PutEmpty(name)
				}
				continue
			}
			v, err := d.ReadValue()
			if err != nil {
				return r.fail(err, limit)
			}
			if top == nil {
				r.pos = r.offset()
				return nil
			}
			if !top.obj {
				top.n++
			}
			top.state = afterItem
			if build {
				if top.obj {
					r.build.scalar(slot, v, top.shape, top.n-1)
				} else {
					slot = top.s.AppendEmpty()
					r.build.scalar(slot, v, nil, 0)
				}
			}
		}
		if build && r.maxBuild > 0 && r.offset()-start > r.maxBuild {
			build = false
		}
	}
}

// offset is the absolute offset just past the last token read.
func (r *jsonReader) offset() int {
	return r.base + int(r.dec.InputOffset())
}
