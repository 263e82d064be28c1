// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"bytes"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// RecordError says which record of a payload was rejected, where and why.
type RecordError struct {
	// Record is the 1-based position of the record in the payload.
	Record int `json:"record"`
	// Line is the 1-based line, Offset the byte offset, where the problem was found.
	Line   int    `json:"line"`
	Offset int    `json:"offset"`
	Msg    string `json:"error"`
}

func (e RecordError) Error() string {
	return fmt.Sprintf("record %d (line %d, byte offset %d): %s", e.Record, e.Line, e.Offset, e.Msg)
}

// Limits bound what a payload may hold.
type Limits struct {
	// JSON bounds nesting and keys per object.
	JSON JSONLimits
	// MaxRecordBytes refuses a record whose JSON text is longer: the
	// splunk_hec exporter drops an event above its max_event_size (5 MiB)
	// after the sender was told it was accepted, so the receiver refuses
	// it first, saying so. 0 means no bound.
	MaxRecordBytes int
	// MaxRecords bounds the values of one payload, records or not: every
	// value costs a map or a rejection, however few bytes it takes. A
	// payload with more is refused whole (TooManyRecordsError). 0 means no
	// bound.
	MaxRecords int
}

// DefaultLimits are the receiver's defaults.
var DefaultLimits = Limits{JSON: DefaultJSONLimits, MaxRecordBytes: 1 << 20, MaxRecords: 10_000}

// MaxListedErrors is how many rejected records a walk describes; it counts
// them all, so that a body of broken records costs a counter, not a list.
const MaxListedErrors = 20

// ErrEmptyPayload is returned for a body that holds no JSON at all.
var ErrEmptyPayload = errors.New("request body is empty: expected Auth0 log records as JSON lines, a JSON array or a JSON object")

// TooManyRecordsError refuses a payload of more than Limits.MaxRecords
// values. The walk stops at the first value beyond the bound.
type TooManyRecordsError struct {
	Max int
}

func (e *TooManyRecordsError) Error() string {
	return fmt.Sprintf("the request holds more than %d records", e.Max)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Outcome is what a walk of a payload found.
type Outcome struct {
	// Records counts the top-level values read: records, and values that
	// are not records.
	Records int
	// Rejected counts the records refused as malformed.
	Rejected int
	// Errors describes the first MaxListedErrors rejected records.
	Errors []RecordError
}

// ReadLogStream calls fn with each record of an Auth0 log stream body, and
// its header, and counts the records it had to reject.
//
// All of Auth0's content formats are one loop: the body is a sequence of
// top-level JSON values separated by whitespace, where an object is a record
// (JSONOBJECT, JSONLINES) and an array holds records (JSONARRAY). A bad
// record costs only itself:
//   - a record that breaks a limit (nesting, keys, size), is not an object,
//     or lacks its "log_id" or its "type" is well-formed JSON: it is stepped
//     over and the walk goes on with the next value, in an array too;
//   - a record that is not valid JSON has no end that can be trusted: the
//     walk resumes on the line after the one where that record started,
//     which is where the next JSON lines record begins. The elements that
//     followed it on its line, in a single-line array, are not read: its
//     error says so.
//
// fn owns rec and may move it elsewhere.
func ReadLogStream(body []byte, limits Limits, fn func(rec pcommon.Map, h Header)) (Outcome, error) {
	r := newJSONReader(bytes.TrimPrefix(body, utf8BOM), limits.JSON)
	defer r.release()
	return readLogStream(r, limits, fn)
}

// readLogStream is ReadLogStream on a reader the tests can look into.
func readLogStream(p *jsonReader, limits Limits, fn func(rec pcommon.Map, h Header)) (Outcome, error) {
	var out Outcome
	body := p.Data()
	lines := lineCounter{data: body}
	lastRejected := 0
	// reject reports a record once: a record that failed for its type and is
	// then followed by a bad delimiter is one problem, not two.
	reject := func(offset int, msg string) {
		if lastRejected == out.Records {
			return
		}
		lastRejected = out.Records
		out.Rejected++
		if len(out.Errors) < MaxListedErrors {
			out.Errors = append(out.Errors, RecordError{Record: out.Records, Line: lines.lineAt(offset), Offset: offset, Msg: msg})
		}
	}
	// brokenTail reports an array that breaks off after a record: what
	// follows is lost, and counts as one more (broken) record.
	brokenTail := func(offset int, msg string) {
		if lastRejected != out.Records {
			out.Records++
		}
		reject(offset, msg)
	}
	// next counts one more value, and tells whether it may be read.
	next := func() error {
		out.Records++
		if limits.MaxRecords > 0 && out.Records > limits.MaxRecords {
			out.Records--
			return &TooManyRecordsError{Max: limits.MaxRecords}
		}
		return nil
	}

	if !p.SkipSpace() {
		return out, ErrEmptyPayload
	}
	for p.SkipSpace() {
		start := p.Pos()
		switch p.Peek() {
		case '[':
			p.Consume('[')
			if p.SkipSpace() && p.Consume(']') {
				continue
			}
			for {
				if err := next(); err != nil {
					return out, err
				}
				elemStart := p.Pos()
				if bad := parseRecord(p, limits.MaxRecordBytes, fn); bad != nil {
					if bad.syntax {
						reject(bad.offset, bad.msg+resyncArray(p, elemStart, bad.offset))
						break
					}
					reject(bad.offset, bad.msg)
				}
				if !p.SkipSpace() {
					brokenTail(p.Pos(), "invalid JSON: unexpected end of input in array")
					break
				}
				if p.Consume(',') {
					p.SkipSpace()
					continue
				}
				if p.Consume(']') {
					break
				}
				at := p.Pos()
				brokenTail(at, "invalid JSON: expecting ',' or ']' after array element"+resyncArray(p, elemStart, at))
				break
			}
		default:
			if err := next(); err != nil {
				return out, err
			}
			if bad := parseRecord(p, limits.MaxRecordBytes, fn); bad != nil {
				reject(bad.offset, bad.msg)
				if bad.syntax {
					resync(p, start)
				}
			}
		}
	}
	return out, nil
}

// WalkLogStream is ReadLogStream for callers that need neither the header
// nor the count of rejections: it returns the values read and the first
// MaxListedErrors rejected records.
func WalkLogStream(body []byte, limits Limits, fn func(rec pcommon.Map)) (records int, rejected []RecordError, err error) {
	out, err := ReadLogStream(body, limits, func(rec pcommon.Map, _ Header) { fn(rec) })
	return out.Records, out.Errors, err
}

type badRecord struct {
	offset int
	msg    string
	// syntax is set when the parser could not find the record's end.
	syntax bool
}

// parseRecord parses the value at the parser's position as one record and
// hands it to fn. A well-formed value that is refused (its type, a limit,
// its size, a missing field) is stepped over; after a syntax error the
// parser is left where the error was found.
func parseRecord(p *jsonReader, maxBytes int, fn func(rec pcommon.Map, h Header)) *badRecord {
	start := p.Pos()
	if p.Peek() != '{' {
		kind := describeValue(p.Peek())
		if err := p.SkipValue(); err != nil {
			return syntaxError(err)
		}
		return &badRecord{offset: start, msg: fmt.Sprintf("record is a JSON %s, not an object", kind)}
	}
	rec := pcommon.NewMap()
	p.maxBuild = maxBytes
	err := p.ParseObject(rec)
	p.maxBuild = 0
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			// Well-formed, and the parser is past it, unless it is nested
			// deeper than the decoder reads.
			return &badRecord{offset: le.Offset, msg: "record is beyond the receiver's limits: " + le.Msg, syntax: le.endUnknown}
		}
		return syntaxError(err)
	}
	if size := p.Pos() - start; maxBytes > 0 && size > maxBytes {
		return &badRecord{offset: start, msg: fmt.Sprintf("record is %d bytes, more than max_record_size (%d)", size, maxBytes)}
	}
	if d, ok := rec.Get("data"); ok && d.Type() != pcommon.ValueTypeMap {
		return &badRecord{offset: start, msg: fmt.Sprintf(`field "data" is a %s, not an object`, jsonTypeName(d.Type()))}
	}
	h := LogEventHeader(rec)
	if h.ID == "" {
		return &badRecord{offset: start, msg: `record has no "log_id" (a non-empty string): not an Auth0 log record`}
	}
	if !hasType(rec) {
		return &badRecord{offset: start, msg: `record has no "type": not an Auth0 log record`}
	}
	fn(rec, h)
	return nil
}

// hasType tells whether the event carries a type code. A type of the wrong
// JSON type still counts: the record is kept, without the attribute.
func hasType(rec pcommon.Map) bool {
	event := rec
	if data, ok := getMap(rec, "data"); ok {
		event = data
	}
	v, ok := event.Get("type")
	return ok && v.Type() != pcommon.ValueTypeEmpty && (v.Type() != pcommon.ValueTypeStr || v.Str() != "")
}

func syntaxError(err error) *badRecord {
	var se *SyntaxError
	if errors.As(err, &se) {
		return &badRecord{offset: se.Offset, msg: "invalid JSON: " + se.Msg, syntax: true}
	}
	return &badRecord{msg: "invalid JSON: " + err.Error(), syntax: true}
}

// resync moves the parser to the start of the line after the one holding
// offset from: a broken record is given up, the next line is tried.
func resync(p *jsonReader, from int) {
	data := p.Data()
	if i := bytes.IndexByte(data[from:], '\n'); i >= 0 {
		p.Seek(from + i + 1)
		return
	}
	p.Seek(len(data))
}

// resyncArray is resync for an element of an array: the elements that
// followed the broken one on its line cannot be found, and the note it
// returns, for the element's error, says they were not read.
func resyncArray(p *jsonReader, from, errAt int) string {
	resync(p, from)
	to := p.Pos()
	if errAt < to && len(bytes.TrimSpace(p.Data()[errAt+1:to])) > 0 {
		return "; the rest of the array on that line was not read"
	}
	return ""
}

func describeValue(c byte) string {
	switch {
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	default:
		return "value"
	}
}

func jsonTypeName(t pcommon.ValueType) string {
	switch t {
	case pcommon.ValueTypeStr:
		return "string"
	case pcommon.ValueTypeInt, pcommon.ValueTypeDouble:
		return "number"
	case pcommon.ValueTypeBool:
		return "boolean"
	case pcommon.ValueTypeSlice:
		return "array"
	case pcommon.ValueTypeMap:
		return "object"
	default:
		return "null"
	}
}

// lineCounter turns offsets into line numbers; offsets arrive in increasing
// order, so counting resumes where it stopped.
type lineCounter struct {
	data   []byte
	offset int
	line   int
}

func (c *lineCounter) lineAt(offset int) int {
	if c.line == 0 {
		c.line = 1
	}
	if offset < c.offset {
		c.offset, c.line = 0, 1
	}
	if offset > len(c.data) {
		offset = len(c.data)
	}
	c.line += bytes.Count(c.data[c.offset:offset], []byte{'\n'})
	c.offset = offset
	return c.line
}
