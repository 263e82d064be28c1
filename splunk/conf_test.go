// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The two packages' directories, relative to this package: the add-on
// (parse and search-time knowledge) and the app (dashboard, reports,
// alerts).
const (
	taRoot  = "TA_otelcol_auth0"
	appRoot = "otelcol_auth0"
)

var packageRoots = []string{taRoot, appRoot}

// keyRule is one setting a spec file allows: an exact key or a key class
// (a prefix such as "EVAL-"), and the values it takes (nil: any).
type keyRule struct {
	key    string
	prefix bool
	valid  func(string) bool
}

func exact(key string, valid func(string) bool) keyRule { return keyRule{key: key, valid: valid} }
func class(prefix string) keyRule                       { return keyRule{key: prefix, prefix: true} }

func oneOf(values ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(values, v) }
}

func boolean(v string) bool {
	return slices.Contains([]string{"true", "false", "1", "0", "True", "False"}, v)
}

func nonNegative(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0
}

// specs lists, per .conf file of the app, the stanzas it may have and the
// keys each may set, taken from Splunk's spec files (app.conf.spec,
// props.conf.spec, transforms.conf.spec, macros.conf.spec,
// savedsearches.conf.spec; Splunk 9.x). A key the app sets must be here;
// what is here is only what the app may need, not the whole spec.
var specs = map[string]struct {
	stanza func(name string) bool
	keys   func(stanza string) []keyRule
}{
	"app.conf": {
		stanza: oneOf("install", "launcher", "ui", "package", "id", "triggers"),
		keys: func(stanza string) []keyRule {
			return map[string][]keyRule{
				"install": {
					exact("state", oneOf("enabled", "disabled")), exact("state_change_requires_restart", boolean),
					exact("is_configured", boolean), exact("build", nonNegative), exact("allows_disable", boolean),
				},
				"launcher": {exact("version", nil), exact("description", func(v string) bool { return len(v) <= 200 }), exact("author", nil)},
				"ui": {
					exact("is_visible", boolean), exact("show_in_nav", boolean), exact("label", func(v string) bool { return len(v) >= 5 && len(v) <= 80 }),
					exact("docs_section_override", nil), exact("attribution_link", nil), exact("setup_view", nil), exact("supported_themes", nil),
				},
				"package":  {exact("id", nil), exact("check_for_updates", boolean), exact("show_upgrade_notification", boolean)},
				"id":       {exact("group", nil), exact("name", nil), exact("version", nil)},
				"triggers": {class("reload.")},
			}[stanza]
		},
	},
	"props.conf": {
		stanza: func(string) bool { return true }, // a sourcetype, source:: or host::
		keys: func(string) []keyRule {
			return []keyRule{
				exact("CHARSET", nil), exact("TRUNCATE", nonNegative), exact("LINE_BREAKER", validRegexp), exact("LINE_BREAKER_LOOKBEHIND", nonNegative),
				exact("SHOULD_LINEMERGE", boolean), exact("BREAK_ONLY_BEFORE_DATE", boolean), exact("BREAK_ONLY_BEFORE", validRegexp),
				exact("MUST_BREAK_AFTER", validRegexp), exact("MUST_NOT_BREAK_AFTER", validRegexp), exact("MUST_NOT_BREAK_BEFORE", validRegexp),
				exact("MAX_EVENTS", nonNegative), exact("DATETIME_CONFIG", func(v string) bool { return v == "CURRENT" || v == "NONE" || strings.HasPrefix(v, "/") }),
				exact("TIME_PREFIX", validRegexp), exact("MAX_TIMESTAMP_LOOKAHEAD", nonNegative), exact("TIME_FORMAT", nil), exact("TZ", nil),
				exact("MAX_DAYS_AGO", nonNegative), exact("MAX_DAYS_HENCE", nonNegative),
				exact("KV_MODE", oneOf("none", "auto", "auto_escaped", "multi", "json", "xml")), exact("AUTO_KV_JSON", boolean), exact("KV_TRIM_SPACES", boolean),
				exact("ANNOTATE_PUNCT", boolean), exact("description", nil), exact("category", nil), exact("rename", nil),
				class("TRANSFORMS-"), class("REPORT-"), class("EXTRACT-"), class("SEDCMD-"), class("FIELDALIAS-"), class("EVAL-"), class("LOOKUP-"),
			}
		},
	},
	"transforms.conf": {
		stanza: func(string) bool { return true },
		keys: func(string) []keyRule {
			return []keyRule{
				exact("filename", func(v string) bool { return strings.HasSuffix(v, ".csv") }), exact("case_sensitive_match", boolean),
				exact("max_matches", nonNegative), exact("min_matches", nonNegative), exact("default_match", nil), exact("match_type", nil),
			}
		},
	},
	"eventtypes.conf": {
		stanza: func(name string) bool { return regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(name) },
		keys: func(string) []keyRule {
			return []keyRule{exact("search", nil), exact("description", nil), exact("priority", nonNegative), exact("disabled", boolean), exact("color", nil)}
		},
	},
	"tags.conf": {
		stanza: func(name string) bool { return regexp.MustCompile(`^eventtype=[a-z0-9_]+$`).MatchString(name) },
		keys: func(string) []keyRule {
			return []keyRule{{key: "", prefix: true, valid: oneOf("enabled", "disabled")}}
		},
	},
	"macros.conf": {
		stanza: func(name string) bool { return regexp.MustCompile(`^[a-z0-9_]+(\(\d+\))?$`).MatchString(name) },
		keys: func(string) []keyRule {
			return []keyRule{
				exact("definition", nil), exact("args", nil), exact("validation", nil), exact("errormsg", nil),
				exact("iseval", boolean), exact("description", nil),
			}
		},
	},
	"savedsearches.conf": {
		stanza: func(name string) bool { return name != "" && name != "default" },
		keys: func(string) []keyRule {
			return []keyRule{
				exact("search", nil), exact("description", nil), exact("disabled", boolean), exact("is_visible", boolean),
				exact("enableSched", oneOf("0", "1")), exact("cron_schedule", nil), exact("dispatchAs", oneOf("user", "owner")),
				exact("dispatch.earliest_time", validTime), exact("dispatch.latest_time", validTime),
				exact("request.ui_dispatch_app", nil), exact("request.ui_dispatch_view", nil),
				exact("display.general.type", oneOf("events", "statistics", "visualizations")),
				exact("display.visualizations.show", oneOf("0", "1")),
				exact("display.visualizations.type", oneOf("charting", "singlevalue", "mapping", "custom")),
				exact("display.visualizations.charting.chart", oneOf("line", "area", "column", "bar", "pie", "scatter", "bubble", "radialGauge", "fillerGauge", "markerGauge")),
				exact("display.statistics.show", oneOf("0", "1")),
				exact("counttype", oneOf("number of events", "number of hosts", "number of sources", "always")),
				exact("relation", oneOf("greater than", "less than", "equal to", "not equal to", "drops by", "rises by")),
				exact("quantity", nonNegative), exact("alert.track", boolean), class("action."),
				exact("alert.severity", oneOf("1", "2", "3", "4", "5", "6")), exact("alert.digest_mode", boolean),
				exact("alert.suppress", boolean), exact("alert.suppress.fields", nil), exact("alert.suppress.period", validTime),
			}
		},
	},
}

// validTime accepts Splunk's relative time modifiers (-7d@d, now, @w0, 0).
func validTime(v string) bool {
	return regexp.MustCompile(`^(now|0|rt|[-+]?\d*[a-z]*(@[a-z]+\d*)?)$`).MatchString(v) && v != ""
}

func validRegexp(v string) bool {
	_, err := regexp.Compile(v) // Splunk's PCRE is wider; the app uses the common subset
	return err == nil
}

// Every .conf file in default/ of both packages is one the test knows,
// parses strictly and sets only keys its spec allows, with values of the
// right kind.
func TestConfFilesUseKnownKeys(t *testing.T) {
	var files []string
	for _, root := range packageRoots {
		more, err := filepath.Glob(filepath.Join(root, "default", "*.conf"))
		require.NoError(t, err)
		require.NotEmpty(t, more, root)
		files = append(files, more...)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(file, func(t *testing.T) {
			spec, ok := specs[name]
			require.True(t, ok, "%s: no spec known to this test; add its keys from Splunk's %s.spec", name, name)
			conf := readConf(t, file)
			require.NotEmpty(t, conf.Stanzas)
			for _, stanza := range conf.Stanzas {
				assert.True(t, spec.stanza(stanza.Name), "%s line %d: stanza [%s] is not one %s has", name, stanza.Line, stanza.Name, name)
				rules := spec.keys(stanza.Name)
				for _, kv := range stanza.Settings {
					rule, ok := findRule(rules, kv.Key)
					if !assert.True(t, ok, "%s line %d: [%s] %s is not a %s setting", name, kv.Line, stanza.Name, kv.Key, name) {
						continue
					}
					if rule.valid != nil {
						assert.True(t, rule.valid(kv.Value), "%s line %d: %s = %q is not a valid value", name, kv.Line, kv.Key, kv.Value)
					}
					if rule.prefix && rule.key != "" {
						assert.Greater(t, len(kv.Key), len(rule.key), "%s line %d: %s needs a class name", name, kv.Line, kv.Key)
					}
				}
			}
		})
	}
}

func findRule(rules []keyRule, key string) (keyRule, bool) {
	for _, r := range rules {
		if key == r.key || r.prefix && strings.HasPrefix(key, r.key) {
			return r, true
		}
	}
	return keyRule{}, false
}

// metadata/default.meta scopes each package as Splunk's own add-ons do: the
// add-on's knowledge (props, lookups, eventtypes, tags) is exported to
// system, so that the CIM data models and other apps see it; the app's
// views, reports and macros stay in the app. Every role reads, only admin
// writes. Every stanza sets only access, export, owner, and access reads
// "read : [ roles ], write : [ roles ]".
func TestDefaultMeta(t *testing.T) {
	for root, wantExport := range map[string]string{taRoot: "system", appRoot: "none"} {
		t.Run(root, func(t *testing.T) { checkDefaultMeta(t, root, wantExport) })
	}
}

func checkDefaultMeta(t *testing.T, root, wantExport string) {
	conf := readConf(t, filepath.Join(root, "metadata", "default.meta"))
	access := regexp.MustCompile(`^read : \[ [*\w, ]+ \](, write : \[ [*\w, ]+ \])?$`)
	global, ok := conf.Stanza("")
	require.True(t, ok, "default.meta needs the [] stanza for the whole package")
	export, _ := global.Get("export")
	assert.Equal(t, wantExport, export, "%s: [] export", root)
	for _, stanza := range conf.Stanzas {
		if stanza.Name != "" {
			e, _ := stanza.Get("export")
			assert.NotEqual(t, "system", e, "%s: only the whole add-on is exported, [%s] is", root, stanza.Name)
		}
		for _, kv := range stanza.Settings {
			switch kv.Key {
			case "access":
				assert.Regexp(t, access, kv.Value, "line %d", kv.Line)
				_, write, _ := strings.Cut(kv.Value, "write")
				assert.Equal(t, " : [ admin ]", write, "%s line %d: only admin changes the package's objects", root, kv.Line)
			case "export":
				assert.Contains(t, []string{"none", "system"}, kv.Value, "line %d", kv.Line)
			case "owner":
			default:
				t.Errorf("default.meta line %d: %s is not a metadata setting", kv.Line, kv.Key)
			}
		}
	}
}

// Splunk's rules that the parser enforces, each with the line it names.
func TestParseConfRefusesWhatSplunkWouldMisread(t *testing.T) {
	cases := map[string]struct{ conf, err string }{
		"setting before any stanza": {"KV_MODE = json\n[a]\n", "line 1: KV_MODE is set before any [stanza]"},
		"stanza twice":              {"[a]\nx = 1\n[a]\ny = 2\n", "line 3: stanza [a] appears twice"},
		"key twice":                 {"[a]\nx = 1\nx = 2\n", "line 3: x is set twice in [a]"},
		"no equals sign":            {"[a]\nKV_MODE json\n", "line 2: not a comment, [stanza] or key = value"},
		"unclosed stanza":           {"[a\nx = 1\n", "line 1: a stanza header must end with ]"},
		"space in key":              {"[a]\nKV MODE = json\n", "line 2: a key has no spaces"},
		"empty key":                 {"[a]\n = json\n", "line 2: not a comment"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConf([]byte(c.conf))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}

	conf, err := ParseConf([]byte("# comment\n\n[Auth0 - x]\nsearch = a \\\n  | b\n  # indented comment\ndescription= d = e \n[]\naccess = read : [ * ]\n"))
	require.NoError(t, err)
	require.Len(t, conf.Stanzas, 2)
	s, ok := conf.Stanza("Auth0 - x")
	require.True(t, ok)
	v, _ := s.Get("search")
	assert.Equal(t, "a \n  | b", v, "a trailing backslash continues the value")
	v, _ = s.Get("description")
	assert.Equal(t, "d = e", v)
	assert.Equal(t, 7, s.Settings[1].Line)
}

func readConf(t *testing.T, path string) *Conf {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	conf, err := ParseConf(data)
	require.NoError(t, err, path)
	return conf
}
