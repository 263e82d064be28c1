// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package splunk holds the two Splunk packages for the events otelcol-auth0
// sends: the add-on in splunk/TA_otelcol_auth0 (props, lookups, eventtypes
// and tags that map the auth0_activity sourcetype to the CIM) and the app
// in splunk/otelcol_auth0 (dashboard, reports, alerts). It reads their
// .conf files strictly and packages each as the .tgz Splunk installs
// (`make splunk-app`). Its tests check both against the HEC events the
// pipeline produces.
package splunk // import "github.com/otelcol-auth0/otelcol-auth0/splunk"

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Conf is a .conf file: its stanzas in file order.
type Conf struct {
	Stanzas []*Stanza
}

// Stanza is one [name] section with its settings in file order.
type Stanza struct {
	Name     string
	Line     int
	Settings []Setting
}

// Setting is one "key = value" line; a value continued with a trailing
// backslash spans several lines, joined with newlines.
type Setting struct {
	Key, Value string
	Line       int
}

// ParseConf reads a .conf (or .meta) file as Splunk does, but strictly: a
// line that is neither a comment, a [stanza] nor "key = value", a setting
// before the first stanza, a stanza or a key given twice, all are errors
// (Splunk would take the last silently), reported together with their line.
func ParseConf(data []byte) (*Conf, error) {
	c := &Conf{}
	var errs []error
	seen := map[string]bool{}
	var cur *Stanza
	var keys map[string]bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		start := n
		for strings.HasSuffix(line, `\`) && sc.Scan() {
			n++
			line = strings.TrimSuffix(line, `\`) + "\n" + strings.TrimRight(sc.Text(), " \t\r")
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case strings.HasPrefix(trimmed, "["):
			if !strings.HasSuffix(trimmed, "]") {
				errs = append(errs, fmt.Errorf("line %d: a stanza header must end with ]: %q", start, trimmed))
				continue
			}
			name := trimmed[1 : len(trimmed)-1]
			if seen[name] {
				errs = append(errs, fmt.Errorf("line %d: stanza [%s] appears twice", start, name))
			}
			seen[name] = true
			cur = &Stanza{Name: name, Line: start}
			keys = map[string]bool{}
			c.Stanzas = append(c.Stanzas, cur)
		default:
			key, value, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			switch {
			case !ok || key == "":
				errs = append(errs, fmt.Errorf("line %d: not a comment, [stanza] or key = value: %q", start, trimmed))
			case strings.ContainsAny(key, " \t"):
				errs = append(errs, fmt.Errorf("line %d: a key has no spaces: %q", start, key))
			case cur == nil:
				errs = append(errs, fmt.Errorf("line %d: %s is set before any [stanza]", start, key))
			case keys[key]:
				errs = append(errs, fmt.Errorf("line %d: %s is set twice in [%s]", start, key, cur.Name))
			default:
				keys[key] = true
				cur.Settings = append(cur.Settings, Setting{Key: key, Value: strings.TrimSpace(value), Line: start})
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Stanza returns the stanza named name.
func (c *Conf) Stanza(name string) (*Stanza, bool) {
	for _, s := range c.Stanzas {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Get returns the value of key.
func (s *Stanza) Get(key string) (string, bool) {
	for _, kv := range s.Settings {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}
