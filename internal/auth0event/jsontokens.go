// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"

import (
	"bytes"
	"encoding/json"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// fromTokens decodes text, an object the scanner accepted, from
// encoding/json's tokens: for the records fastjson would decode wrongly
// (a lone surrogate escape stays six characters, a broken pair loses the
// character after it) or build too large a tree for (maxTreeValues). It
// is slower, and holds nothing but the pdata it builds. The scanner has
// checked the syntax, the depth and the keys.
func (b *builder) fromTokens(dst pcommon.Map, text []byte, start int) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return tokenError(err, start)
	}
	return b.tokenObject(dec, dst, start)
}

func (b *builder) tokenObject(dec *json.Decoder, dst pcommon.Map, start int) error {
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return tokenError(err, start)
		}
		k, _ := key.(string)
		if err := b.tokenValue(dec, dst.PutEmpty(k), start); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return tokenError(err, start)
	}
	return nil
}

func (b *builder) tokenValue(dec *json.Decoder, dst pcommon.Value, start int) error {
	tok, err := dec.Token()
	if err != nil {
		return tokenError(err, start)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return b.tokenObject(dec, dst.SetEmptyMap(), start)
		}
		s := dst.SetEmptySlice()
		for dec.More() {
			if err := b.tokenValue(dec, s.AppendEmpty(), start); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return tokenError(err, start)
		}
	case string:
		dst.SetStr(t)
	case json.Number:
		b.num = append(b.num[:0], t...)
		setNumber(dst, b.num)
	case bool:
		dst.SetBool(t)
	}
	// null leaves dst empty.
	return nil
}

// tokenError reports encoding/json refusing what the scanner accepted: a
// disagreement, reported rather than trusted.
func tokenError(err error, start int) error {
	return &SyntaxError{Offset: start, Msg: "encoding/json refused what the scanner accepted: " + err.Error()}
}
