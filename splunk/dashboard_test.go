package splunk

import (
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

// dashboard is the part of a Simple XML dashboard the tests read.
type dashboard struct {
	file    string
	XMLName xml.Name
	Version string `xml:"version,attr"`
	Label   string `xml:"label"`
	Inputs  []struct {
		Type  string `xml:"type,attr"`
		Token string `xml:"token,attr"`
	} `xml:"fieldset>input"`
	Rows []struct {
		Panels []struct {
			Title string     `xml:"title"`
			Viz   []panelViz `xml:",any"`
		} `xml:"panel"`
	} `xml:"row"`
}

type panelViz struct {
	XMLName xml.Name
	Search  *struct {
		Ref      string `xml:"ref,attr"`
		Query    string `xml:"query"`
		Earliest string `xml:"earliest"`
		Latest   string `xml:"latest"`
	} `xml:"search"`
}

func (d dashboard) vizzes() []panelViz {
	var out []panelViz
	for _, r := range d.Rows {
		for _, p := range r.Panels {
			out = append(out, p.Viz...)
		}
	}
	return out
}

func (d dashboard) queries() []string {
	var out []string
	for _, v := range d.vizzes() {
		if v.Search != nil && v.Search.Query != "" {
			out = append(out, v.Search.Query)
		}
	}
	return out
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
		require.Equal(t, ".xml", filepath.Ext(file), "%s: views are Simple XML", file)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		require.NoError(t, wellFormed(data), file)
		d := dashboard{file: filepath.Base(file)}
		require.NoError(t, xml.Unmarshal(data, &d), file)
		out = append(out, d)
	}
	return out
}

var vizElements = []string{"chart", "table", "single", "map", "event"}

// Dashboards are well-formed Simple XML 1.1 (the version Splunk 9 requires
// for jQuery 3.5), every panel runs a saved search that exists or an
// inline query, every $token$ is an input's, and every saved search of the
// app appears on the dashboard.
func TestDashboardsAreWellFormed(t *testing.T) {
	saved := readConf(t, filepath.Join(appRoot, "default", "savedsearches.conf"))
	used := map[string]bool{}
	tokenRef := regexp.MustCompile(`\$([^$]+)\$`)
	for _, d := range readDashboards(t) {
		assert.Contains(t, []string{"form", "dashboard"}, d.XMLName.Local, d.file)
		assert.Equal(t, "1.1", d.Version, "%s: Simple XML version 1.1", d.file)
		assert.NotEmpty(t, d.Label, d.file)
		tokens := map[string]bool{}
		for _, in := range d.Inputs {
			if in.Type == "time" {
				tokens[in.Token+".earliest"], tokens[in.Token+".latest"] = true, true
			} else {
				tokens[in.Token] = true
			}
		}
		vizzes := d.vizzes()
		require.NotEmpty(t, vizzes, d.file)
		for _, v := range vizzes {
			assert.Contains(t, vizElements, v.XMLName.Local, "%s: unknown panel element <%s>", d.file, v.XMLName.Local)
			if !assert.NotNil(t, v.Search, "%s: a <%s> without a search", d.file, v.XMLName.Local) {
				continue
			}
			s := v.Search
			assert.True(t, (s.Ref == "") != (s.Query == ""), "%s: a search has a ref or a query, not both", d.file)
			if s.Ref != "" {
				_, ok := saved.Stanza(s.Ref)
				assert.True(t, ok, "%s: no saved search %q", d.file, s.Ref)
				used[s.Ref] = true
			}
			for _, text := range []string{s.Query, s.Earliest, s.Latest} {
				for _, m := range tokenRef.FindAllStringSubmatch(text, -1) {
					assert.True(t, tokens[m[1]], "%s: $%s$ is no input's token", d.file, m[1])
				}
			}
			assert.NotEmpty(t, s.Earliest, "%s: every panel follows the time picker", d.file)
		}
	}
	for _, s := range saved.Stanzas {
		assert.True(t, used[s.Name], "saved search %q is on no dashboard", s.Name)
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
