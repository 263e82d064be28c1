// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// This file reads the SPL of the app's searches far enough to know which
// fields each command reads and which it creates. It knows the commands the
// app uses and refuses any other, so that a search cannot use a field the
// test did not see.

type tokenKind int

const (
	tWord   tokenKind = iota // a name: command, field, function, keyword
	tField                   // 'quoted field name'
	tString                  // "string literal"
	tNumber                  // 10, 1d, 2.5
	tOp                      // = != >= ( ) , | ...
)

type token struct {
	kind tokenKind
	text string
}

var macroRef = regexp.MustCompile("`([^`]+)`")

// expandMacros replaces `name` with the macro's definition, recursively.
func expandMacros(search string, macros map[string]string) (string, error) {
	for range 10 {
		var missing []string
		search = macroRef.ReplaceAllStringFunc(search, func(m string) string {
			name := strings.Trim(m, "`")
			def, ok := macros[name]
			if !ok {
				missing = append(missing, name)
			}
			return def
		})
		if len(missing) > 0 {
			return "", fmt.Errorf("unknown macro(s) %v", missing)
		}
		if !strings.Contains(search, "`") {
			return search, nil
		}
	}
	return "", fmt.Errorf("macros nest too deep")
}

func tokenize(s string) ([]token, error) {
	var out []token
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(r) && r[j] != c {
				if r[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated %c at %d", c, i)
			}
			kind := tString
			if c == '\'' {
				kind = tField
			}
			out = append(out, token{kind, string(r[i+1 : j])})
			i = j + 1
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || strings.ContainsRune("_.{}", r[j])) {
				j++
			}
			out = append(out, token{tWord, string(r[i:j])})
			i = j
		case unicode.IsDigit(c):
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '.' || r[j] == '@') {
				j++
			}
			out = append(out, token{tNumber, string(r[i:j])})
			i = j
		default:
			if i+1 < len(r) && slices.Contains([]string{"!=", ">=", "<=", "==", "::"}, string(r[i:i+2])) {
				out = append(out, token{tOp, string(r[i : i+2])})
				i += 2
				continue
			}
			if !strings.ContainsRune("=<>(),|+-*/%.", c) {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			out = append(out, token{tOp, string(c)})
			i++
		}
	}
	return out, nil
}

// splitPipeline cuts a search into its commands.
func splitPipeline(tokens []token) [][]token {
	var cmds [][]token
	var cur []token
	for _, t := range tokens {
		if t.kind == tOp && t.text == "|" {
			cmds = append(cmds, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(cmds, cur)
}

// fieldSet is the fields available at a point of a search.
type fieldSet map[string]bool

// searchCheck follows a search command by command. reads collects every
// field read that was not available at that point, with its command.
type searchCheck struct {
	avail fieldSet
	// values are the values the events' fields take, for comparisons
	// with a literal; created marks the fields a command made.
	values   map[string]fieldSet
	created  fieldSet
	problems []string
}

// compare checks that field = "literal" can match: the literal is a value
// the field takes in the events (a misspelled "Signup" would match nothing).
func (c *searchCheck) compare(cmd, field, literal string) {
	if c.created[field] || c.values[field] == nil {
		return
	}
	if !c.values[field][literal] {
		c.problems = append(c.problems, fmt.Sprintf("%s compares %q with %q, a value no event has", cmd, field, literal))
	}
}

func (c *searchCheck) read(cmd, field string) {
	if !c.avail[field] {
		c.problems = append(c.problems, fmt.Sprintf("%s reads %q, which the events do not have at that point", cmd, field))
	}
}

func (c *searchCheck) define(fields ...string) {
	for _, f := range fields {
		c.avail[f] = true
		c.created[f] = true
	}
}

var exprKeywords = []string{"AND", "OR", "NOT", "IN", "LIKE", "true", "false", "null", "TRUE", "FALSE"}

// exprFields reads an eval or where expression: a name is a field unless it
// calls a function or is a keyword.
func (c *searchCheck) exprFields(cmd string, tokens []token) {
	for i, t := range tokens {
		if (t.kind == tField || t.kind == tWord) && i+2 < len(tokens) && slices.Contains([]string{"=", "==", "!="}, tokens[i+1].text) && tokens[i+2].kind == tString {
			c.compare(cmd, t.text, tokens[i+2].text)
		}
		switch {
		case t.kind == tField:
			c.read(cmd, t.text)
		case t.kind == tWord && i+1 < len(tokens) && tokens[i+1].text == "(":
			// a function
		case t.kind == tWord && !slices.Contains(exprKeywords, t.text):
			c.read(cmd, t.text)
		}
	}
}

// options that transforming commands take as name=value.
var commandOptions = []string{
	"span", "limit", "useother", "usenull", "partial", "bins", "showcount", "showperc",
	"countfield", "percentfield", "otherstr", "nullstr", "cont", "allfields", "prefix", "lang", "value", "featureIdField", "allowFeatureSkip",
}

// checkSearch follows one search (macros expanded) through its commands;
// values, when given, are the values each event field takes.
func checkSearch(search string, macros map[string]string, events fieldSet, values map[string]fieldSet) ([]string, error) {
	expanded, err := expandMacros(search, macros)
	if err != nil {
		return nil, err
	}
	tokens, err := tokenize(expanded)
	if err != nil {
		return nil, err
	}
	c := &searchCheck{avail: fieldSet{}, values: values, created: fieldSet{}}
	for f := range events {
		c.avail[f] = true
	}
	cmds := splitPipeline(tokens)
	if len(cmds) > 1 && len(cmds[0]) == 0 {
		cmds = cmds[1:] // a search that starts with a generating command: | tstats ...
	}
	for i, cmd := range cmds {
		if len(cmd) == 0 {
			return nil, fmt.Errorf("empty command in %q", expanded)
		}
		name := cmd[0].text
		args := cmd[1:]
		if i == 0 && name != "search" && name != "tstats" {
			name, args = "search", cmd
		}
		if err := c.command(name, args); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return c.problems, nil
}

func (c *searchCheck) command(name string, args []token) error {
	switch name {
	case "search":
		for i := 0; i < len(args); i++ {
			t := args[i]
			if t.kind == tWord && i+2 < len(args) && args[i+1].text == "::" {
				// field::value matches an index-time field only.
				if !slices.Contains(leanIndexedFields, t.text) {
					c.problems = append(c.problems, fmt.Sprintf("%s: %s::%s names no index-time field", name, t.text, args[i+2].text))
				} else {
					c.read(name, t.text)
					c.compare(name, t.text, args[i+2].text)
				}
				i += 2
				continue
			}
			if t.kind == tWord && i+1 < len(args) && (args[i+1].text == "=" || args[i+1].text == "!=") {
				c.read(name, t.text)
				if i+2 < len(args) && (args[i+2].kind == tString || args[i+2].kind == tWord) {
					c.compare(name, t.text, args[i+2].text)
				}
				i += 2
			}
		}
	case "where":
		c.exprFields(name, args)
	case "eval":
		for _, part := range splitTop(args, ",") {
			if len(part) < 3 || part[1].text != "=" {
				return fmt.Errorf("expected name=expression")
			}
			c.exprFields(name, part[2:])
			c.define(part[0].text)
		}
	case "stats", "timechart", "chart", "top", "rare":
		return c.transforming(name, args)
	case "tstats":
		return c.tstats(args)
	case "iplocation":
		rest := c.options(args)
		if len(rest) != 1 || rest[0].kind != tWord {
			return fmt.Errorf("expected one field")
		}
		c.read(name, rest[0].text)
		c.define("City", "Country", "Region", "lat", "lon")
	case "geom":
		for i := 0; i+2 < len(args); i++ {
			if args[i].text == "featureIdField" && args[i+1].text == "=" {
				c.read(name, args[i+2].text)
			}
		}
		c.define("geom", "featureId")
	case "sort":
		for _, t := range c.options(args) {
			if t.kind == tWord {
				c.read(name, t.text)
			}
		}
	case "head":
	case "table", "fields", "dedup":
		kept := fieldSet{}
		for _, t := range c.options(args) {
			if t.kind == tWord {
				c.read(name, t.text)
				kept[t.text] = true
			}
		}
		if name == "table" {
			c.avail = kept
		}
	case "fillnull":
		for _, t := range c.options(args) {
			if t.kind == tWord {
				c.read(name, t.text)
			}
		}
	default:
		return fmt.Errorf("the test does not know this command: teach spl_test.go which fields it reads and creates")
	}
	return nil
}

// options drops name=value options, returns the rest.
func (c *searchCheck) options(args []token) []token {
	var rest []token
	for i := 0; i < len(args); i++ {
		if args[i].kind == tWord && slices.Contains(commandOptions, args[i].text) && i+2 < len(args) && args[i+1].text == "=" {
			i += 2
			continue
		}
		rest = append(rest, args[i])
	}
	return rest
}

// transforming reads "agg(field) AS name ... by f1 f2" and leaves only what
// the command outputs available afterwards.
func (c *searchCheck) transforming(name string, args []token) error {
	args = c.options(args)
	out := fieldSet{}
	by := slices.IndexFunc(args, func(t token) bool { return t.kind == tWord && strings.EqualFold(t.text, "by") })
	aggs, groups := args, []token(nil)
	if by >= 0 {
		aggs, groups = args[:by], args[by+1:]
	}
	for _, g := range groups {
		if g.kind == tWord || g.kind == tField {
			c.read(name, g.text)
			out[g.text] = true
		}
	}
	if name == "top" || name == "rare" {
		for _, a := range aggs {
			if a.kind == tWord {
				c.read(name, a.text)
				out[a.text] = true
			}
		}
		out["count"], out["percent"] = true, true
	} else {
		for i := 0; i < len(aggs); i++ {
			t := aggs[i]
			if t.kind != tWord {
				continue
			}
			outName := t.text
			if i+1 < len(aggs) && aggs[i+1].text == "(" {
				end := i + 2
				for end < len(aggs) && aggs[end].text != ")" {
					end++
				}
				if end >= len(aggs) {
					return fmt.Errorf("unclosed %s(", t.text)
				}
				c.exprFields(name, aggs[i+2:end])
				outName = tokensText(aggs[i : end+1])
				i = end
			}
			if i+2 < len(aggs) && strings.EqualFold(aggs[i+1].text, "AS") {
				outName = aggs[i+2].text
				i += 2
			}
			out[outName] = true
		}
	}
	if name == "timechart" {
		out["_time"] = true
	}
	c.avail = out
	for f := range out {
		c.created[f] = true
	}
	return nil
}

func tokensText(tokens []token) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString(t.text)
	}
	return b.String()
}

func splitTop(tokens []token, sep string) [][]token {
	var parts [][]token
	var cur []token
	depth := 0
	for _, t := range tokens {
		switch {
		case t.kind == tOp && t.text == "(":
			depth++
		case t.kind == tOp && t.text == ")":
			depth--
		case t.kind == tOp && t.text == sep && depth == 0:
			parts = append(parts, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(parts, cur)
}

// indexedFields are what tstats can read without a data model: the
// index-time fields and the event's own metadata.
var indexedFields = append([]string{"index", "sourcetype", "source", "host", "_time"}, leanIndexedFields...)

// tstats reads "aggs [where terms] [by fields]" with no data model: every
// field it filters or groups by must be an index-time field, since tstats
// reads nothing else.
func (c *searchCheck) tstats(args []token) error {
	for len(args) > 2 && args[0].kind == tWord && slices.Contains([]string{"prestats", "summariesonly", "allow_old_summaries", "local"}, args[0].text) && args[1].text == "=" {
		args = args[3:]
	}
	if slices.ContainsFunc(args, func(t token) bool { return t.kind == tWord && t.text == "from" }) {
		return fmt.Errorf("tstats from a data model: teach the test its fields")
	}
	where := slices.IndexFunc(args, func(t token) bool { return t.kind == tWord && t.text == "where" })
	by := slices.IndexFunc(args, func(t token) bool { return t.kind == tWord && strings.EqualFold(t.text, "by") })
	if where < 0 {
		where = len(args)
		if by >= 0 {
			where = by
		}
	}
	end := len(args)
	if by >= 0 {
		end = by
	}
	for i := where + 1; i < end; i++ {
		t := args[i]
		if t.kind == tWord && i+1 < end && args[i+1].text == "=" {
			if !slices.Contains(indexedFields, t.text) {
				c.problems = append(c.problems, fmt.Sprintf("tstats filters on %q, which is no index-time field", t.text))
			}
			c.read("tstats", t.text)
			if i+2 < end && args[i+2].text != "*" {
				c.compare("tstats", t.text, args[i+2].text)
			}
			i += 2
		}
	}
	var group []token
	if by >= 0 {
		group = c.options(args[by+1:])
		for _, g := range group {
			if g.kind == tWord && !slices.Contains(indexedFields, g.text) {
				c.problems = append(c.problems, fmt.Sprintf("tstats groups by %q, which is no index-time field", g.text))
			}
		}
	}
	// What remains is "aggs by fields", as stats reads it.
	rest := slices.Clone(args[:min(where, len(args))])
	if by >= 0 {
		rest = append(append(rest, token{tWord, "by"}), group...)
	}
	return c.transforming("tstats", rest)
}
