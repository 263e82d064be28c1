// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// studio is the part of a Dashboard Studio definition the tests read.
type studio struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	DataSources map[string]struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Options struct {
			Query  string `json:"query"`
			Extend string `json:"extend"`
		} `json:"options"`
	} `json:"dataSources"`
	Visualizations map[string]struct {
		Type        string            `json:"type"`
		Title       string            `json:"title"`
		Description string            `json:"description"`
		Options     map[string]any    `json:"options"`
		DataSources map[string]string `json:"dataSources"`
	} `json:"visualizations"`
	Inputs map[string]struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Options struct {
			Token        string `json:"token"`
			DefaultValue string `json:"defaultValue"`
		} `json:"options"`
	} `json:"inputs"`
	Defaults json.RawMessage `json:"defaults"`
	Layout   struct {
		Type         string         `json:"type"`
		Options      map[string]any `json:"options"`
		GlobalInputs []string       `json:"globalInputs"`
		Structure    []struct {
			Item     string `json:"item"`
			Type     string `json:"type"`
			Position struct {
				X, Y, W, H int
			} `json:"position"`
		} `json:"structure"`
	} `json:"layout"`
}

// dashboard is one view: a Dashboard Studio definition in its XML wrapper.
type dashboard struct {
	file       string
	XMLName    xml.Name
	Version    string `xml:"version,attr"`
	Label      string `xml:"label"`
	Definition string `xml:"definition"`
	def        studio
	raw        map[string]any
}

// queries are the dashboard's searches as Splunk runs them: a chained data
// source runs its base's query, then its own.
func (d dashboard) queries() []string {
	var out []string
	for _, id := range slices.Sorted(mapsKeys(d.def.DataSources)) {
		ds := d.def.DataSources[id]
		q := ds.Options.Query
		if ds.Type == "ds.chain" {
			q = d.def.DataSources[ds.Options.Extend].Options.Query + " " + q
		}
		out = append(out, q)
	}
	return out
}

func mapsKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// wellFormed reads an XML file to its end: any syntax error fails.
func wellFormed(data []byte) error {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func readDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(appRoot, "default", "data", "ui", "views", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []dashboard
	for _, file := range files {
		require.Equal(t, ".xml", filepath.Ext(file), "%s: Splunk stores a view as XML", file)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NoError(t, wellFormed(data), file)
		d := dashboard{file: filepath.Base(file)}
		require.NoError(t, xml.Unmarshal(data, &d), file)
		require.Equal(t, "2", d.Version, "%s: a Dashboard Studio view is <dashboard version=\"2\">", file)
		dec := json.NewDecoder(strings.NewReader(d.Definition))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&d.def), "%s: the definition is Dashboard Studio JSON", file)
		require.NoError(t, json.Unmarshal([]byte(d.Definition), &d.raw))
		out = append(out, d)
	}
	return out
}

// studioVizTypes are the Dashboard Studio visualizations the app may use.
var studioVizTypes = []string{"splunk.singlevalue", "splunk.column", "splunk.bar", "splunk.line", "splunk.area", "splunk.pie", "splunk.table", "splunk.map", "splunk.markdown"}

// The dashboard is Dashboard Studio: a definition with data sources,
// visualizations, inputs and a layout that refer to each other; every
// visualization is placed and reads a data source that exists; every data
// source is used. Every search uses the index: a ds.search starts with
// tstats or finds its events by index-time fields (field::value); a
// ds.chain post-processes such a base search. The time picker's tokens
// are the searches' time range.
func TestDashboardsAreDashboardStudio(t *testing.T) {
	for _, d := range readDashboards(t) {
		def := d.def
		assert.Equal(t, "dashboard", d.XMLName.Local, d.file)
		assert.NotEmpty(t, d.Label, d.file)
		assert.NotEmpty(t, def.Title, d.file)
		require.NotEmpty(t, def.Visualizations, d.file)

		tokens := map[string]bool{}
		for id, in := range def.Inputs {
			assert.Equal(t, "input.timerange", in.Type, "%s: input %s", d.file, id)
			tokens[in.Options.Token+".earliest"], tokens[in.Options.Token+".latest"] = true, true
			assert.Contains(t, def.Layout.GlobalInputs, id, "%s: input %s is not in the layout", d.file, id)
		}
		defaults := string(def.Defaults)
		for _, m := range regexp.MustCompile(`\$([^$]+)\$`).FindAllStringSubmatch(defaults, -1) {
			assert.True(t, tokens[m[1]], "%s: $%s$ is no input's token", d.file, m[1])
		}
		assert.Contains(t, defaults, `"ds.search"`, "%s: the searches' default time range is the time picker's", d.file)

		used := map[string]bool{}
		placed := map[string]bool{}
		for _, item := range def.Layout.Structure {
			_, ok := def.Visualizations[item.Item]
			assert.True(t, ok, "%s: the layout places %s, which is no visualization", d.file, item.Item)
			assert.False(t, placed[item.Item], "%s: %s is placed twice", d.file, item.Item)
			placed[item.Item] = true
			assert.Positive(t, item.Position.W*item.Position.H, "%s: %s has no size", d.file, item.Item)
		}
		for id, v := range def.Visualizations {
			assert.Contains(t, studioVizTypes, v.Type, "%s: %s", d.file, id)
			assert.NotEmpty(t, v.Title, "%s: %s has no title", d.file, id)
			assert.True(t, placed[id], "%s: %s is in no place of the layout", d.file, id)
			primary := v.DataSources["primary"]
			_, ok := def.DataSources[primary]
			assert.True(t, ok, "%s: %s reads data source %q, which does not exist", d.file, id, primary)
			used[primary] = true
		}
		for id, ds := range def.DataSources {
			q := strings.TrimSpace(ds.Options.Query)
			assert.NotEmpty(t, ds.Name, "%s: %s has no name", d.file, id)
			switch ds.Type {
			case "ds.search":
				first, _, _ := strings.Cut(strings.TrimPrefix(q, "|"), "|")
				assert.True(t, strings.HasPrefix(q, "| tstats ") || strings.Contains(first, "::"),
					"%s: %s neither runs tstats nor finds its events by index-time fields: %s", d.file, id, q)
			case "ds.chain":
				base, ok := def.DataSources[ds.Options.Extend]
				if assert.True(t, ok, "%s: %s extends %q, which does not exist", d.file, id, ds.Options.Extend) {
					assert.Equal(t, "ds.search", base.Type, "%s: %s extends a search", d.file, id)
					used[ds.Options.Extend] = true
				}
				assert.True(t, strings.HasPrefix(q, "|"), "%s: %s post-processes its base: %s", d.file, id, q)
			default:
				t.Errorf("%s: %s is a %s; the app uses ds.search and ds.chain", d.file, id, ds.Type)
			}
		}
		for id := range def.DataSources {
			assert.True(t, used[id], "%s: data source %s is used by nothing", d.file, id)
		}
	}
}

// Every saved search finds its events by the index: tstats, or
// field::value terms on the index-time fields.
func TestSavedSearchesUseTheIndex(t *testing.T) {
	for _, s := range readConf(t, filepath.Join(appRoot, "default", "savedsearches.conf")).Stanzas {
		search, _ := s.Get("search")
		expanded, err := expandMacros(search, readMacros(t))
		require.NoError(t, err, s.Name)
		first, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(expanded), "|"), "|")
		assert.True(t, strings.HasPrefix(strings.TrimSpace(expanded), "| tstats ") || strings.Contains(first, "::"),
			"[%s] neither runs tstats nor finds its events by index-time fields: %s", s.Name, expanded)
		if strings.Contains(s.Name, "Alert") {
			sched, _ := s.Get("enableSched")
			cron, _ := s.Get("cron_schedule")
			track, _ := s.Get("alert.track")
			assert.Equal(t, "1", sched, "[%s] an alert is scheduled", s.Name)
			assert.NotEmpty(t, cron, "[%s] an alert has a schedule", s.Name)
			assert.Equal(t, "1", track, "[%s] a fired alert is listed in Triggered Alerts", s.Name)
			assert.Regexp(t, "`auth0_[a-z_]+(threshold|minutes|filter)`", search, "[%s] the alert's threshold is a macro", s.Name)
		}
	}
}

// The navigation bar names views that exist and saved searches by a prefix
// they have.
func TestNavigation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(appRoot, "default", "data", "ui", "nav", "default.xml"))
	require.NoError(t, err)
	require.NoError(t, wellFormed(data))
	var nav struct {
		Views []struct {
			Name string `xml:"name,attr"`
		} `xml:"view"`
		Saved []struct {
			Match string `xml:"match,attr"`
		} `xml:"collection>saved"`
	}
	require.NoError(t, xml.Unmarshal(data, &nav))
	var views []string
	for _, d := range readDashboards(t) {
		views = append(views, strings.TrimSuffix(d.file, ".xml"))
	}
	for _, v := range nav.Views {
		assert.True(t, v.Name == "search" || slices.Contains(views, v.Name), "nav names view %s, which the app does not have", v.Name)
	}
	saved := readConf(t, filepath.Join(appRoot, "default", "savedsearches.conf"))
	for _, s := range nav.Saved {
		n := 0
		for _, st := range saved.Stanzas {
			if strings.Contains(st.Name, s.Match) {
				n++
			}
		}
		assert.Equal(t, len(saved.Stanzas), n, "nav's saved-search match %q should list every report", s.Match)
	}
}
