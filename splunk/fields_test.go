// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"encoding/csv"
	"fmt"
	"maps"
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

// leanIndexedFields are the index-time fields (HEC "fields") the app's
// searches may use: the lean default of otelcol-config.yaml
// (transform/hec_fields), few and of low cardinality; the six of every
// event, then Adaptive MFA's risk assessment. Every other attribute is a
// field only where a user opts in, so no search may depend on it.
var leanIndexedFields = []string{
	"auth0.event", "auth0.type", "auth0.category", "auth0.source", "auth0.tenant", "auth0.client_name",
	"auth0.risk.confidence", "auth0.risk.impossible_travel", "auth0.risk.new_device", "auth0.risk.untrusted_ip",
}

// splunkFields are fields every Splunk event has, beside the HEC event's
// own source, sourcetype, host and index.
var splunkFields = []string{"_time", "_raw", "linecount", "splunk_server", "eventtype", "tag"}

// rawView is what a search sees of a HEC event before the app's calculated
// fields and lookups: the event's JSON as KV_MODE = json extracts it
// (a.b for objects, a{} for arrays), the lean index-time fields and
// Splunk's own fields.
func rawView(ev hecEvent) map[string]string {
	view := map[string]string{}
	flattenJSON("", ev.Event, view)
	for _, f := range leanIndexedFields {
		if v, ok := ev.Fields[f]; ok {
			view[f] = fmt.Sprint(v)
		}
	}
	for _, f := range splunkFields {
		view[f] = "set"
	}
	view["source"], view["sourcetype"], view["host"] = ev.Source, ev.SourceType, ev.Host
	view["index"] = ev.Index
	if ev.Index == "" {
		view["index"] = "main" // the HEC token's default index
	}
	return view
}

func flattenJSON(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			flattenJSON(join(k), child, out)
		}
	case []any:
		for _, child := range v {
			flattenJSON(prefix+"{}", child, out)
		}
	case string:
		out[prefix] = v
	case float64:
		out[prefix] = strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		out[prefix] = strconv.FormatBool(v)
	}
}

// lookup is one automatic lookup (LOOKUP-<class>) of props.conf.
type lookup struct {
	class, table, input string
	outputs             []string
	overwrite           bool                         // OUTPUT; OUTPUTNEW keeps a value already there
	rows                map[string]map[string]string // input value -> output field -> value
}

// appProps is what the add-on's props.conf and transforms.conf make of
// the events.
type appProps struct {
	evals   map[string][]token // EVAL-<field>
	lookups []lookup           // in the order Splunk applies them: by class name
}

func readProps(t *testing.T) appProps {
	t.Helper()
	props := readConf(t, filepath.Join(taRoot, "default", "props.conf"))
	stanza, ok := props.Stanza("auth0_activity")
	require.True(t, ok, "props.conf has no [auth0_activity]")
	kv, _ := stanza.Get("KV_MODE")
	require.Equal(t, "json", kv, "the events are JSON")

	p := appProps{evals: map[string][]token{}}
	for _, s := range stanza.Settings {
		switch {
		case strings.HasPrefix(s.Key, "EVAL-"):
			tokens, err := tokenize(s.Value)
			require.NoError(t, err, s.Key)
			p.evals[strings.TrimPrefix(s.Key, "EVAL-")] = tokens
		case strings.HasPrefix(s.Key, "LOOKUP-"):
			words := strings.Fields(s.Value)
			require.GreaterOrEqual(t, len(words), 4, s.Key)
			out := slices.IndexFunc(words, func(w string) bool { return w == "OUTPUT" || w == "OUTPUTNEW" })
			require.Equal(t, 2, out, "%s: <table> <input field> OUTPUT|OUTPUTNEW <fields>", s.Key)
			l := lookup{class: strings.TrimPrefix(s.Key, "LOOKUP-"), table: words[0], input: words[1], outputs: words[out+1:], overwrite: words[out] == "OUTPUT"}
			l.rows = readLookup(t, l.table, l.input, l.outputs)
			p.lookups = append(p.lookups, l)
		case strings.HasPrefix(s.Key, "FIELDALIAS-"), strings.HasPrefix(s.Key, "EXTRACT-"), strings.HasPrefix(s.Key, "REPORT-"):
			t.Fatalf("%s: the test does not model %s yet", s.Key, s.Key)
		}
	}
	require.NotEmpty(t, p.lookups)
	slices.SortFunc(p.lookups, func(a, b lookup) int { return strings.Compare(a.class, b.class) })
	return p
}

// lookupOutputs are the fields every lookup writes.
func (p appProps) lookupOutputs() []string {
	var out []string
	for _, l := range p.lookups {
		out = append(out, l.outputs...)
	}
	return out
}

// readLookup reads the CSV a transforms.conf lookup names.
func readLookup(t *testing.T, table, input string, outputs []string) map[string]map[string]string {
	t.Helper()
	transforms := readConf(t, filepath.Join(taRoot, "default", "transforms.conf"))
	stanza, ok := transforms.Stanza(table)
	require.True(t, ok, "transforms.conf has no [%s]", table)
	file, ok := stanza.Get("filename")
	require.True(t, ok)
	rows := readCSV(t, filepath.Join(taRoot, "lookups", file))
	header := rows[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		require.GreaterOrEqual(t, i, 0, "%s has no column %s", file, name)
		return i
	}
	in := col(input)
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		_, dup := out[row[in]]
		require.False(t, dup, "%s: %s %q has two rows", file, input, row[in])
		m := map[string]string{}
		for _, o := range outputs {
			m[o] = row[col(o)]
		}
		out[row[in]] = m
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err, path)
	require.NotEmpty(t, rows, path)
	return rows
}

// view is what a search sees of a HEC event once the add-on's props
// applied: calculated fields, each evaluated from the raw fields alone
// (Splunk evaluates them independently), then the automatic lookups, in
// order; an empty cell writes nothing.
func (p appProps) view(t *testing.T, ev hecEvent) map[string]string {
	t.Helper()
	raw := rawView(ev)
	view := maps.Clone(raw)
	for name, expr := range p.evals {
		v, ok, err := evalExpr(expr, raw)
		require.NoError(t, err, "EVAL-%s", name)
		if ok {
			view[name] = v
		}
	}
	for _, l := range p.lookups {
		key, ok := view[l.input]
		if !ok {
			continue
		}
		for k, v := range l.rows[key] {
			if v == "" || !l.overwrite && view[k] != "" {
				continue
			}
			view[k] = v
		}
	}
	return view
}

// evalExpr evaluates the calculated fields' eval language as far as the
// add-on uses it: field names, string literals, a == b, coalesce(),
// nullif(), if(), null() and replace(). A comparison yields "true" or
// "false"; a null value is ok == false.
func evalExpr(tokens []token, fields map[string]string) (string, bool, error) {
	v, ok, rest, err := evalCompare(tokens, fields)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected %q", rest[0].text)
	}
	return v, ok, err
}

// evalCompare reads a term, or "term == term" (null equals nothing).
func evalCompare(tokens []token, fields map[string]string) (string, bool, []token, error) {
	v, ok, rest, err := evalTerm(tokens, fields)
	if err != nil || len(rest) == 0 || rest[0].text != "==" {
		return v, ok, rest, err
	}
	w, wok, rest, err := evalTerm(rest[1:], fields)
	return strconv.FormatBool(ok && wok && v == w), true, rest, err
}

func evalTerm(tokens []token, fields map[string]string) (string, bool, []token, error) {
	if len(tokens) == 0 {
		return "", false, nil, fmt.Errorf("missing expression")
	}
	t := tokens[0]
	switch {
	case t.kind == tString:
		return t.text, true, tokens[1:], nil
	case t.kind == tField || t.kind == tWord && (len(tokens) == 1 || tokens[1].text != "("):
		v, ok := fields[t.text]
		return v, ok, tokens[1:], nil
	case t.kind == tWord:
		var args []struct {
			v  string
			ok bool
		}
		rest := tokens[2:]
		for len(rest) > 0 && rest[0].text != ")" {
			v, ok, r, err := evalCompare(rest, fields)
			if err != nil {
				return "", false, nil, err
			}
			args = append(args, struct {
				v  string
				ok bool
			}{v, ok})
			rest = r
			if len(rest) > 0 && rest[0].text == "," {
				rest = rest[1:]
			}
		}
		if len(rest) == 0 {
			return "", false, nil, fmt.Errorf("unclosed %s(", t.text)
		}
		rest = rest[1:]
		switch t.text {
		case "coalesce":
			for _, a := range args {
				if a.ok {
					return a.v, true, rest, nil
				}
			}
			return "", false, rest, nil
		case "nullif":
			if len(args) != 2 {
				return "", false, nil, fmt.Errorf("nullif takes two arguments")
			}
			if args[0].ok && args[1].ok && args[0].v == args[1].v {
				return "", false, rest, nil
			}
			return args[0].v, args[0].ok, rest, nil
		case "if":
			if len(args) != 3 || !args[0].ok || (args[0].v != "true" && args[0].v != "false") {
				return "", false, nil, fmt.Errorf("if takes a comparison and two values")
			}
			if args[0].v == "true" {
				return args[1].v, args[1].ok, rest, nil
			}
			return args[2].v, args[2].ok, rest, nil
		case "null":
			return "", false, rest, nil
		case "replace":
			if len(args) != 3 || !args[1].ok || !args[2].ok {
				return "", false, nil, fmt.Errorf("replace takes a value, a regular expression and a replacement")
			}
			re, err := regexp.Compile(args[1].v)
			if err != nil {
				return "", false, nil, err
			}
			if !args[0].ok {
				return "", false, rest, nil
			}
			return re.ReplaceAllString(args[0].v, args[2].v), true, rest, nil
		}
		return "", false, nil, fmt.Errorf("the test does not evaluate %s(): teach evalExpr", t.text)
	}
	return "", false, nil, fmt.Errorf("unexpected %q", t.text)
}

// availableFields are the fields a search can use: those that have a
// value in at least one golden HEC event once the app's props applied;
// and the values each takes.
func availableFields(t *testing.T, p appProps) (fieldSet, map[string]fieldSet) {
	t.Helper()
	avail, values := fieldSet{}, map[string]fieldSet{}
	for _, events := range allGoldenEvents(t) {
		for _, ev := range events {
			for k, v := range p.view(t, ev) {
				if v != "" {
					avail[k] = true
					if values[k] == nil {
						values[k] = fieldSet{}
					}
					values[k][v] = true
				}
			}
		}
	}
	// Fields whose value the test does not know; the index is the
	// installation's choice (the auth0_index macro).
	for _, f := range splunkFields {
		delete(values, f)
	}
	delete(values, "index")
	return avail, values
}

func readMacros(t *testing.T) map[string]string {
	t.Helper()
	conf := readConf(t, filepath.Join(appRoot, "default", "macros.conf"))
	out := map[string]string{}
	for _, s := range conf.Stanzas {
		def, ok := s.Get("definition")
		require.True(t, ok, "macro %s has no definition", s.Name)
		out[s.Name] = def
	}
	return out
}

// appSearches are every search of the app: the saved searches and the
// dashboards' inline queries, by where they are.
func appSearches(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range readConf(t, filepath.Join(appRoot, "default", "savedsearches.conf")).Stanzas {
		search, ok := s.Get("search")
		require.True(t, ok, "[%s] has no search", s.Name)
		out["savedsearches.conf ["+s.Name+"]"] = search
	}
	for _, d := range readDashboards(t) {
		for i, q := range d.queries() {
			out[fmt.Sprintf("%s query %d", d.file, i+1)] = q
		}
	}
	return out
}

// Every field a search reads, command by command, has a value in the HEC
// events the real pipeline produces (the golden files), after the app's
// props: the event's JSON, the lean index-time fields, Splunk's fields, the
// app's calculated fields and lookup, or what an earlier command created.
// A field compared with a literal ("SignUp", "failure") takes that value in
// some event.
func TestSearchesUseFieldsTheEventsHave(t *testing.T) {
	props := readProps(t)
	avail, values := availableFields(t, props)
	macros := readMacros(t)
	searches := appSearches(t)
	eventtypes := readEventtypes(t)
	require.GreaterOrEqual(t, len(searches), 10)
	for where, search := range searches {
		problems, err := checkSearch(search, macros, avail, values)
		if assert.NoError(t, err, "%s: %s", where, search) {
			for _, p := range problems {
				t.Errorf("%s: %s\n  search: %s", where, p, search)
			}
		}
		assert.Contains(t, search, "`auth0_events`", "%s: every search starts from the app's macro, so that pointing the app at an index is one change", where)
		for _, m := range regexp.MustCompile(`eventtype=(\w+)`).FindAllStringSubmatch(search, -1) {
			_, ok := eventtypes[m[1]]
			assert.True(t, ok, "%s: eventtype %s is not in the add-on's eventtypes.conf", where, m[1])
		}
	}
}

// The calculated fields mean the same thing whatever the body format: on
// every golden event, SignUps and Logins have their decision, application,
// client IP and user; failures their type, reason, application and client
// IP; every known type its name and category. A calculated field reads raw
// fields only (Splunk evaluates them independently of each other).
func TestCalculatedFieldsOnEveryBodyFormat(t *testing.T) {
	props := readProps(t)
	for name, expr := range props.evals {
		for i, tk := range expr {
			isName := tk.kind == tField || tk.kind == tWord && (i+1 == len(expr) || expr[i+1].text != "(")
			if isName {
				_, isCalc := props.evals[tk.text]
				assert.False(t, isCalc, "EVAL-%s reads %s, another calculated field: Splunk evaluates them independently", name, tk.text)
				assert.False(t, slices.Contains(props.lookupOutputs(), tk.text), "EVAL-%s reads a lookup's %s: lookups run after calculated fields", name, tk.text)
			}
		}
	}
	for _, l := range props.lookups {
		_, ok := props.evals[l.input]
		assert.True(t, ok, "the lookup %s's input %s is a calculated field", l.class, l.input)
	}

	propsConf := readConf(t, filepath.Join(taRoot, "default", "props.conf"))
	for format, events := range goldenEvents(t) {
		risk := 0
		for i, ev := range events {
			view := props.view(t, ev)
			where := fmt.Sprintf("%s event %d", format, i+1)
			_, ok := propsConf.Stanza(ev.SourceType)
			assert.True(t, ok, "%s: props.conf has no [%s] for the sourcetype the pipeline sends", where, ev.SourceType)
			decision, _ := ev.Fields["auth0.event"].(string)
			category, _ := ev.Fields["auth0.category"].(string)
			switch {
			case decision != "":
				assert.Equal(t, decision, view["activity"], where)
				for _, f := range []string{"app", "src", "user", "user_id", "auth0_type", "type_name"} {
					assert.NotEmpty(t, view[f], "%s: %s", where, f)
				}
			case category == "failure":
				assert.Empty(t, view["activity"], where)
				assert.Equal(t, "failure", view["type_category"], where)
				for _, f := range []string{"app", "src", "user", "auth0_type", "type_name", "reason"} {
					assert.NotEmpty(t, view[f], "%s: %s", where, f)
				}
			default:
				assert.Empty(t, view["activity"], "%s: neither SignUp nor Login", where)
			}
			assert.Equal(t, ev.Fields["auth0.type"], view["auth0_type"], where)
			if view["risk_confidence"] != "" {
				risk++
				for _, f := range []string{"impossible_travel", "new_device", "untrusted_ip"} {
					assert.Contains(t, []string{"low", "medium", "high"}, view[f], "%s: %s", where, f)
				}
			}
		}
		// The Rule's object carries no risk assessment: in body_format rule
		// the index-time fields the receiver maps it to show it.
		assert.Equal(t, 2, risk, "both assessed logins show their risk in the %s body format", format)
	}
}
