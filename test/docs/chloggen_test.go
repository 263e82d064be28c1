// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package docs

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The change types chloggen knows, and the heading each is rendered under.
var changeTypes = map[string]string{
	"breaking":      "### 🛑 Breaking changes 🛑",
	"deprecation":   "### 🚩 Deprecations 🚩",
	"new_component": "### 🚀 New components 🚀",
	"enhancement":   "### 💡 Enhancements 💡",
	"bug_fix":       "### 🧰 Bug fixes 🧰",
}

// chlogEntry is one .chloggen entry, as chloggen reads it.
type chlogEntry struct {
	ChangeType string   `yaml:"change_type"`
	Component  string   `yaml:"component"`
	Note       string   `yaml:"note"`
	Issues     []int    `yaml:"issues"`
	SubText    string   `yaml:"subtext"`
	ChangeLogs []string `yaml:"change_logs"`
}

// allowedComponents reads the components .chloggen/config.yaml lists.
func allowedComponents(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".chloggen", "config.yaml"))
	require.NoError(t, err)
	var cfg struct {
		Components []string `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	require.NotEmpty(t, cfg.Components, ".chloggen/config.yaml lists no components")
	return cfg.Components
}

// Every pending changelog entry has what chloggen needs to render it: a known
// change type, a listed component, a note and its issues, and no other key.
func TestChangelogEntries(t *testing.T) {
	components := allowedComponents(t)
	files, err := filepath.Glob(filepath.Join(root, ".chloggen", "*.yaml"))
	require.NoError(t, err)
	require.Contains(t, files, filepath.Join(root, ".chloggen", "TEMPLATE.yaml"))
	for _, f := range files {
		name := filepath.Base(f)
		if name == "TEMPLATE.yaml" || name == "config.yaml" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			var e chlogEntry
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			require.NoError(t, dec.Decode(&e), "keys: change_type, component, note, issues, subtext, change_logs")

			_, known := changeTypes[e.ChangeType]
			assert.True(t, known, "change_type %q is not one of breaking, deprecation, new_component, enhancement, bug_fix", e.ChangeType)
			assert.Contains(t, components, e.Component, "component %q is not listed in .chloggen/config.yaml", e.Component)
			assert.NotEmpty(t, strings.TrimSpace(e.Note), "note is empty")
			assert.NotEmpty(t, e.Issues, "issues is empty")
			for _, i := range e.Issues {
				assert.Positive(t, i, "issue numbers are positive")
			}
			for _, l := range e.ChangeLogs {
				assert.Equal(t, "user", l, "the only change log is user (CHANGELOG.md)")
			}
		})
	}
}

// CHANGELOG.md is laid out as chloggen renders it: releases, the change
// types' headings in their order, and entries naming a listed component and
// their issues.
func TestChangelogLayout(t *testing.T) {
	components := allowedComponents(t)
	b, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	require.NoError(t, err)
	text := string(b)
	require.Contains(t, text, "<!-- next version -->", "chloggen inserts each release after this line")

	order := []string{changeTypes["breaking"], changeTypes["deprecation"], changeTypes["new_component"], changeTypes["enhancement"], changeTypes["bug_fix"]}
	release := regexp.MustCompile(`^## v\d+\.\d+\.\d+$`)
	entry := regexp.MustCompile("^- `([^`]+)`: .+ \\((#\\d+)(, #\\d+)*\\)$")
	releases, last := 0, -1
	inRelease := false
	for n, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			assert.Regexp(t, release, line, "line %d: a release heading is `## vX.Y.Z`", n+1)
			releases++
			inRelease, last = true, -1
		case strings.HasPrefix(line, "### "):
			i := slices.Index(order, line)
			assert.GreaterOrEqual(t, i, 0, "line %d: %q is not a change type's heading", n+1, line)
			assert.Greater(t, i, last, "line %d: %q out of order", n+1, line)
			assert.True(t, inRelease, "line %d: a change type outside a release", n+1)
			last = i
		case strings.HasPrefix(line, "- "):
			m := entry.FindStringSubmatch(line)
			if assert.NotNil(t, m, "line %d: an entry is \"- `component`: note (#issue)\": %s", n+1, line) {
				assert.Contains(t, components, m[1], "line %d: component not listed in .chloggen/config.yaml", n+1)
			}
			assert.GreaterOrEqual(t, last, 0, "line %d: an entry outside a change type's section", n+1)
		}
	}
	assert.Positive(t, releases, "no release")
}
