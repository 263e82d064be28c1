// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"fmt"
	"sort"

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
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.Msg, e.Offset)
}

// jsonReader reads the JSON values of one body into pdata. It steps over
// whitespace and delimiters, checks each value and finds its end itself
// (jsonscan.go), and leaves the decoding to valyala/fastjson, whose tree is
// walked into pdata (jsonpdata.go).
//
// It accepts exactly RFC 8259 JSON, with two leniencies shared with
// encoding/json: invalid UTF-8 and lone surrogate escapes become U+FFFD
// (pdata strings must be valid UTF-8 for OTLP), and duplicate object keys
// keep the last value. Depth and keys per object are checked before any
// recursive code runs or any pdata is built, so that hostile input costs
// bounded stack and CPU; a value that breaks them is well-formed, and is
// stepped over whatever its depth. Every string is copied: nothing built
// points into the body, whose buffer the receiver reuses.
//
// It is not safe for concurrent use.
type jsonReader struct {
	data   []byte
	pos    int
	limits JSONLimits
	scan   scanner
	failed failedScan
	build  builder
	// examined counts the bytes that scans went through, to the end of
	// each value or to its error: what the tests bound to show that a body
	// costs time linear in its size.
	examined int
}

// failedScan is the last scan that failed: where its value started, the
// containers still open at the error (ascending offsets), and the error.
//
// After a broken value the walk resumes on the next line, which may lie
// inside that value: a body of lines that each open a container and never
// close it would have every line scanned to the end of the body, a cost
// that grows with the square of its size. Kept here, it is not scanned
// again. A line never starts inside a string (a raw line break is an error
// in one), so from there the walk reads the tokens the failed scan read: a
// value that starts at a container still open at the error reads the same
// bytes in the same state up to the error, and fails there the same way;
// one that starts at any other container of the broken value closes before
// the error, at the cost of its own bytes; strings, numbers and literals
// end on their line.
type failedScan struct {
	from int
	open []int
	err  *SyntaxError
}

func newJSONReader(data []byte, limits JSONLimits) *jsonReader {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = DefaultMaxDepth
	}
	if limits.MaxObjectKeys <= 0 {
		limits.MaxObjectKeys = DefaultMaxObjectKeys
	}
	r := &jsonReader{data: data, limits: limits}
	r.scan.data = data
	return r
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
// without building anything, whatever its depth: limits do not apply.
// After a SyntaxError the position is where the error was found.
func (r *jsonReader) SkipValue() error {
	_, err := r.next(nil)
	return err
}

// ScanObject checks the object at the read position against the syntax
// and the limits, and moves past it. After a LimitError the position is
// past the value too; after a SyntaxError it is where the error was found.
func (r *jsonReader) ScanObject() (scanned, error) {
	if !r.SkipSpace() {
		return scanned{}, errorAt(r.pos, "unexpected end of input, expecting '{'")
	}
	if r.data[r.pos] != '{' {
		return scanned{}, errorAt(r.pos, "expecting '{', found "+describeAt(r.data, r.pos))
	}
	v, err := r.next(&r.limits)
	if err != nil {
		return v, err
	}
	if v.limit != nil {
		return v, v.limit
	}
	return v, nil
}

// Build decodes an object ScanObject accepted into dst, which must be empty.
func (r *jsonReader) Build(dst pcommon.Map, v scanned) error {
	return r.build.object(dst, r.data, v)
}

// ParseObject is ScanObject then Build.
func (r *jsonReader) ParseObject(dst pcommon.Map) error {
	v, err := r.ScanObject()
	if err != nil {
		return err
	}
	return r.Build(dst, v)
}

// next scans the value at the read position, and moves past it or to its
// error.
func (r *jsonReader) next(limits *JSONLimits) (scanned, error) {
	start := r.pos
	covered := r.failed.covers(start)
	if covered {
		open := r.failed.open
		if i := sort.SearchInts(open, start); i < len(open) && open[i] == start {
			err := r.failed.err
			r.pos = err.Offset
			return scanned{}, &SyntaxError{Offset: err.Offset, Msg: err.Msg}
		}
	}
	v, err := r.scan.scan(start, limits)
	r.examined += v.end - start
	if err != nil {
		// A failure inside the remembered one is a string, a number or a
		// literal, on one line: the remembered failure still covers more.
		if !covered {
			r.failed.from, r.failed.err = start, err
			r.failed.open, r.scan.open = r.scan.open, r.failed.open[:0]
		}
		r.pos = err.Offset
		return v, err
	}
	r.pos = v.end
	return v, nil
}

// covers tells whether a value starting at pos lies inside the failed one,
// before its error.
func (f *failedScan) covers(pos int) bool {
	return f.err != nil && pos >= f.from && pos < f.err.Offset
}
