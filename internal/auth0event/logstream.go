package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"bytes"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-auth0/otelcol-auth0/internal/pjson"
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
	JSON pjson.Limits
	// MaxRecordBytes refuses a record whose JSON text is longer: the
	// splunk_hec exporter drops an event above its max_event_size (5 MiB)
	// after the sender was told it was accepted, so the receiver refuses
	// it first, saying so. 0 means no bound.
	MaxRecordBytes int
}

// DefaultLimits are the receiver's defaults.
var DefaultLimits = Limits{JSON: pjson.DefaultLimits, MaxRecordBytes: 1 << 20}

// ErrEmptyPayload is returned for a body that holds no JSON at all.
var ErrEmptyPayload = errors.New("request body is empty: expected Auth0 log records as JSON lines, a JSON array or a JSON object")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// WalkLogStream calls fn with each record of an Auth0 log stream body and
// returns the records it had to reject.
//
// All of Auth0's content formats are one loop: the body is a sequence of
// top-level JSON values separated by whitespace, where an object is a record
// (JSONOBJECT, JSONLINES) and an array holds records (JSONARRAY). A record
// that is not valid JSON costs only itself: the walk resumes on the line
// after the one where that record started, which is where the next JSON
// lines record begins. fn owns rec and may move it elsewhere.
func WalkLogStream(body []byte, limits Limits, fn func(rec pcommon.Map)) (records int, rejected []RecordError, err error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	p := pjson.NewParser(body, limits.JSON)
	lines := lineCounter{data: body}
	// reject reports a record once: a record that failed for its type and is
	// then followed by a bad delimiter is one problem, not two.
	reject := func(offset int, msg string) {
		if n := len(rejected); n > 0 && rejected[n-1].Record == records {
			return
		}
		rejected = append(rejected, RecordError{Record: records, Line: lines.lineAt(offset), Offset: offset, Msg: msg})
	}
	// brokenTail reports an array that breaks off after a record: what
	// follows is lost, and counts as one more (broken) record.
	brokenTail := func(offset int, msg string) {
		if n := len(rejected); n == 0 || rejected[n-1].Record != records {
			records++
		}
		reject(offset, msg)
	}

	if !p.SkipSpace() {
		return 0, nil, ErrEmptyPayload
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
				records++
				elemStart := p.Pos()
				if bad := parseRecord(p, limits.MaxRecordBytes, fn); bad != nil {
					reject(bad.offset, bad.msg)
					if bad.syntax {
						resync(p, elemStart)
						break
					}
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
				brokenTail(p.Pos(), "invalid JSON: expecting ',' or ']' after array element")
				resync(p, elemStart)
				break
			}
		default:
			records++
			if bad := parseRecord(p, limits.MaxRecordBytes, fn); bad != nil {
				reject(bad.offset, bad.msg)
				if bad.syntax {
					resync(p, start)
				}
			}
		}
	}
	return records, rejected, nil
}

type badRecord struct {
	offset int
	msg    string
	// syntax is set when the parser could not find the record's end.
	syntax bool
}

// parseRecord parses the value at the parser's position as one record and
// hands it to fn. A record of the wrong type is stepped over; after a syntax
// error the parser is left where the error was found.
func parseRecord(p *pjson.Parser, maxBytes int, fn func(rec pcommon.Map)) *badRecord {
	start := p.Pos()
	if p.Peek() != '{' {
		kind := describeValue(p.Peek())
		if err := p.SkipValue(); err != nil {
			return syntaxError(err)
		}
		return &badRecord{offset: start, msg: fmt.Sprintf("record is a JSON %s, not an object", kind)}
	}
	rec := pcommon.NewMap()
	if err := p.ParseObject(rec); err != nil {
		return syntaxError(err)
	}
	if size := p.Pos() - start; maxBytes > 0 && size > maxBytes {
		return &badRecord{offset: start, msg: fmt.Sprintf("record is %d bytes, more than max_record_size (%d)", size, maxBytes)}
	}
	if d, ok := rec.Get("data"); ok && d.Type() != pcommon.ValueTypeMap {
		return &badRecord{offset: start, msg: fmt.Sprintf(`field "data" is a %s, not an object`, jsonTypeName(d.Type()))}
	}
	fn(rec)
	return nil
}

func syntaxError(err error) *badRecord {
	var se *pjson.SyntaxError
	if errors.As(err, &se) {
		return &badRecord{offset: se.Offset, msg: "invalid JSON: " + se.Msg, syntax: true}
	}
	return &badRecord{msg: "invalid JSON: " + err.Error(), syntax: true}
}

// resync moves the parser to the start of the line after the one holding
// offset from: a broken record is given up, the next line is tried.
func resync(p *pjson.Parser, from int) {
	data := p.Data()
	if i := bytes.IndexByte(data[from:], '\n'); i >= 0 {
		p.Seek(from + i + 1)
		return
	}
	p.Seek(len(data))
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
