// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file evaluates the add-on's eventtypes and tags on a HEC event, as
// far as their searches go: field=value (a search-time field, * a
// wildcard, case-insensitive), field::value (an index-time field), NOT,
// OR, parentheses and the implied AND. Splunk evaluates NOT first, then
// OR, then AND.

// readEventtypes reads eventtypes.conf: name -> search tokens.
func readEventtypes(t *testing.T) map[string][]token {
	t.Helper()
	out := map[string][]token{}
	for _, s := range readConf(t, filepath.Join(taRoot, "default", "eventtypes.conf")).Stanzas {
		search, ok := s.Get("search")
		require.True(t, ok, "eventtype %s has no search", s.Name)
		tokens, err := tokenize(search)
		require.NoError(t, err, "eventtype %s", s.Name)
		out[s.Name] = tokens
	}
	return out
}

// readTags reads tags.conf: eventtype -> its enabled tags.
func readTags(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, s := range readConf(t, filepath.Join(taRoot, "default", "tags.conf")).Stanzas {
		et, ok := strings.CutPrefix(s.Name, "eventtype=")
		require.True(t, ok, "tags.conf [%s]: the add-on tags eventtypes only", s.Name)
		for _, kv := range s.Settings {
			if kv.Value == "enabled" {
				out[et] = append(out[et], kv.Key)
			}
		}
	}
	return out
}

// matcher evaluates one eventtype search on an event: view holds its
// search-time fields, indexed its index-time fields.
type matcher struct {
	view, indexed map[string]string
	tokens        []token
	pos           int
}

func matchSearch(tokens []token, view, indexed map[string]string) (bool, error) {
	m := &matcher{view: view, indexed: indexed, tokens: tokens}
	ok, err := m.and()
	if err == nil && m.pos < len(tokens) {
		err = fmt.Errorf("unexpected %q", tokens[m.pos].text)
	}
	return ok, err
}

func (m *matcher) peek() string {
	if m.pos < len(m.tokens) {
		return m.tokens[m.pos].text
	}
	return ""
}

func (m *matcher) and() (bool, error) {
	result := true
	for m.pos < len(m.tokens) && m.peek() != ")" {
		ok, err := m.or()
		if err != nil {
			return false, err
		}
		result = result && ok
	}
	return result, nil
}

func (m *matcher) or() (bool, error) {
	result, err := m.unary()
	for err == nil && m.peek() == "OR" {
		m.pos++
		var ok bool
		ok, err = m.unary()
		result = result || ok
	}
	return result, err
}

func (m *matcher) unary() (bool, error) {
	if m.peek() == "NOT" {
		m.pos++
		ok, err := m.unary()
		return !ok, err
	}
	if m.peek() == "(" {
		m.pos++
		ok, err := m.and()
		if err == nil && m.peek() != ")" {
			err = fmt.Errorf("unclosed (")
		}
		m.pos++
		return ok, err
	}
	if m.pos+2 >= len(m.tokens) || m.tokens[m.pos].kind != tWord {
		return false, fmt.Errorf("expected field=value or field::value at %q", m.peek())
	}
	field, op, value := m.tokens[m.pos].text, m.tokens[m.pos+1].text, m.tokens[m.pos+2].text
	m.pos += 3
	switch op {
	case "::":
		v, ok := m.indexed[field]
		return ok && v == value, nil
	case "=":
		v, ok := m.view[field]
		return ok && globMatch(value, v), nil
	}
	return false, fmt.Errorf("%s %s %s: the test knows = and :: only", field, op, value)
}

// globMatch is Splunk's value match: case-insensitive, * any run.
func globMatch(pattern, v string) bool {
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`(?i)^` + strings.Join(parts, ".*") + `$`).MatchString(v)
}

// indexedView is a HEC event's index-time fields as Splunk matches them.
func indexedView(ev hecEvent) map[string]string {
	out := map[string]string{}
	for k, v := range ev.Fields {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// classify gives the eventtypes an event matches and their tags.
func classify(t *testing.T, eventtypes map[string][]token, tags map[string][]string, view map[string]string, ev hecEvent) ([]string, []string) {
	t.Helper()
	var ets, tagged []string
	for name, tokens := range eventtypes {
		ok, err := matchSearch(tokens, view, indexedView(ev))
		require.NoError(t, err, "eventtype %s", name)
		if ok {
			ets = append(ets, name)
			tagged = append(tagged, tags[name]...)
		}
	}
	slices.Sort(ets)
	slices.Sort(tagged)
	return ets, slices.Compact(tagged)
}

// Every eventtype has tags and every tag names an eventtype that exists;
// every eventtype searches the sourcetype the pipeline sends, and reads
// only index-time fields the pipeline sends (field::value) or fields the
// events have; every eventtype matches some golden event.
func TestEventtypesAndTags(t *testing.T) {
	eventtypes, tags := readEventtypes(t), readTags(t)
	require.NotEmpty(t, eventtypes)
	for et := range tags {
		_, ok := eventtypes[et]
		assert.True(t, ok, "tags.conf tags eventtype %s, which eventtypes.conf does not define", et)
	}
	props := readProps(t)
	avail, _ := availableFields(t, props)
	matched := map[string]int{}
	for name, tokens := range eventtypes {
		assert.NotEmpty(t, tags[name], "eventtype %s has no tags: no data model sees it", name)
		text := tokensText(tokens)
		assert.True(t, strings.HasPrefix(text, "sourcetype=auth0_activity"), "eventtype %s: its search starts with sourcetype=auth0_activity: %s", name, text)
		assert.NotContains(t, text, "index=", "eventtype %s: the CIM data models choose the indexes", name)
		for i, tk := range tokens {
			if tk.kind != tWord || i+1 >= len(tokens) {
				continue
			}
			switch tokens[i+1].text {
			case "::":
				assert.Contains(t, leanIndexedFields, tk.text, "eventtype %s: %s is no index-time field the pipeline sends", name, tk.text)
			case "=":
				assert.True(t, avail[tk.text], "eventtype %s: no event has %s", name, tk.text)
			}
		}
	}
	for _, events := range allGoldenEvents(t) {
		for _, ev := range events {
			ets, _ := classify(t, eventtypes, tags, props.view(t, ev), ev)
			for _, et := range ets {
				matched[et]++
			}
		}
	}
	for name := range eventtypes {
		assert.Positive(t, matched[name], "eventtype %s matches no golden event", name)
	}
}

// The matcher follows Splunk's precedence: NOT, then OR, then AND.
func TestMatchSearch(t *testing.T) {
	view := map[string]string{"sourcetype": "auth0_activity", "data.audience": "https://acme.eu.auth0.com/api/v2/"}
	indexed := map[string]string{"auth0.type": "fp", "auth0.category": "failure"}
	cases := map[string]bool{
		"sourcetype=auth0_activity auth0.type::fp":                     true,
		"sourcetype=AUTH0_ACTIVITY auth0.type::f":                      false,
		"sourcetype=auth0_activity auth0.type::s OR auth0.type::fp":    true,
		"sourcetype=other auth0.type::s OR auth0.type::fp":             false,
		"NOT auth0.type::fp OR auth0.category::failure":                true,
		"(auth0.type::s OR auth0.type::f) NOT auth0.category::failure": false,
		`data.audience="*/api/v2/"`:                                    true,
		`data.audience="*/userinfo"`:                                   false,
		"auth0.type=fp":                                                false,
	}
	for search, want := range cases {
		tokens, err := tokenize(search)
		require.NoError(t, err)
		got, err := matchSearch(tokens, view, indexed)
		require.NoError(t, err, search)
		assert.Equal(t, want, got, search)
	}
}
