// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package docs keeps the reference documentation honest: every variable the
// shipped configuration files read, and every option of our components, is
// described where the documentation says it is, and nothing described there
// is gone from the code.
package docs

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"
	"github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"
)

const root = "../.."

// shippedConfigs are the configuration files users run.
func shippedConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "config", "*.yaml"))
	require.NoError(t, err)
	return append(files, filepath.Join(root, "otelcol-config.yaml"))
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`)

// The table of environment variables in docs/configuration.md names every
// variable a shipped file reads, and only those.
func TestReferenceNamesEveryVariable(t *testing.T) {
	read := map[string][]string{}
	for _, f := range shippedConfigs(t) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range envRef.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(read[m[1]], filepath.Base(f)) {
				read[m[1]] = append(read[m[1]], filepath.Base(f))
			}
		}
	}
	require.NotEmpty(t, read)

	documented := map[string]bool{}
	for _, row := range tableRows(t, filepath.Join(root, "docs", "configuration.md"), "## Environment variables") {
		for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(row[0], -1) {
			documented[m[1]] = true
		}
	}
	var missing, stale []string
	for name, files := range read {
		if !documented[name] {
			missing = append(missing, name+" (read by "+strings.Join(files, ", ")+")")
		}
	}
	for name := range documented {
		if _, ok := read[name]; !ok {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	assert.Empty(t, missing, "variables the shipped configurations read that docs/configuration.md does not describe")
	assert.Empty(t, stale, "variables docs/configuration.md describes that no shipped configuration reads")
}

// Every option of our components appears in its README.
func TestComponentReadmesDescribeEveryOption(t *testing.T) {
	for _, c := range []struct {
		readme string
		config component.Config
	}{
		{"receiver/auth0loginreceiver/README.md", auth0loginreceiver.NewFactory().CreateDefaultConfig()},
		{"processor/signupprocessor/README.md", signupprocessor.NewFactory().CreateDefaultConfig()},
		{"extension/journalstorage/README.md", journalstorage.NewFactory().CreateDefaultConfig()},
	} {
		t.Run(c.readme, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, c.readme))
			require.NoError(t, err)
			readme := string(b)
			var missing []string
			for _, path := range optionPaths(reflect.TypeOf(c.config).Elem(), "") {
				key := path[strings.LastIndex(path, ".")+1:]
				// `path`, or the key after a dot or alone: "`management_api.domain`, `.client_id`".
				if !regexp.MustCompile("[`.]" + regexp.QuoteMeta(key) + "`").MatchString(readme) {
					missing = append(missing, path)
				}
			}
			assert.Empty(t, missing, "options of the component that %s does not describe", c.readme)
		})
	}
}

// optionPaths lists the mapstructure paths of a config type's own options.
// A field whose type belongs to another module (confighttp, configtls,
// configretry) is one option: its README links to that module's.
func optionPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		squash := strings.Contains(f.Tag.Get("mapstructure"), "squash")
		if (tag == "" && !squash) || tag == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		ours := strings.HasPrefix(ft.PkgPath(), "github.com/otelcol-auth0/")
		path := prefix + tag
		switch {
		case squash && ours && ft.Kind() == reflect.Struct:
			out = append(out, optionPaths(ft, prefix)...)
		case squash:
			// Another module's settings, squashed in: documented by link.
		case ours && ft.Kind() == reflect.Struct:
			out = append(out, optionPaths(ft, path+".")...)
		default:
			out = append(out, path)
		}
	}
	return out
}

// tableRows returns the cells of the rows of the first table after heading.
func tableRows(t *testing.T, file, heading string) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, heading+"\n")
	require.GreaterOrEqual(t, i, 0, "%s has no heading %q", file, heading)
	var rows [][]string
	started := false
	for _, line := range strings.Split(text[i:], "\n")[1:] {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if strings.HasPrefix(strings.TrimSpace(cells[0]), "---") || strings.TrimSpace(cells[0]) == "Variable" {
			continue
		}
		rows = append(rows, cells)
	}
	require.NotEmpty(t, rows, "%s has no table after %q", file, heading)
	return rows
}
