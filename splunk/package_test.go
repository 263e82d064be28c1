// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unpack lists a package's entries: name -> mode, and the files' contents.
func unpack(t *testing.T, pkg []byte) (map[string]int64, map[string]string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(pkg))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	modes, files := map[string]int64{}, map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		modes[h.Name] = h.Mode
		assert.Zero(t, h.Uid, h.Name)
		assert.Zero(t, h.Gid, h.Name)
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			files[h.Name] = string(b)
		}
	}
	return modes, files
}

// Each package is what Splunk installs: one top-level directory named
// after [package] id, default/app.conf and metadata/default.meta in it;
// files 0644 (nothing executable, no bin/) and directories 0755; the same
// bytes every time. The add-on holds exactly its parse and search-time
// knowledge and no UI; the app holds exactly the UI, reports and alerts.
func TestPackageLayout(t *testing.T) {
	assert.Equal(t, "splunk/"+taRoot, TADir)
	assert.Equal(t, "splunk/"+appRoot, AppDir)
	checkPackage(t, taRoot, AppInfo{ID: "TA_otelcol_auth0", Version: "0.2.0", Build: 1}, []string{
		"default/app.conf", "metadata/default.meta", "default/props.conf", "default/transforms.conf",
		"default/eventtypes.conf", "default/tags.conf", "lookups/auth0_log_types.csv", "lookups/auth0_cim.csv",
	})
	checkPackage(t, appRoot, AppInfo{ID: "otelcol_auth0", Version: "0.2.0", Build: 2}, []string{
		"default/app.conf", "metadata/default.meta", "default/macros.conf", "default/savedsearches.conf",
		"default/data/ui/views/auth0_activity.xml", "default/data/ui/nav/default.xml",
	})
}

func checkPackage(t *testing.T, root string, want AppInfo, wantFiles []string) {
	t.Helper()
	var pkg bytes.Buffer
	info, err := Package(&pkg, os.DirFS(root))
	require.NoError(t, err)
	assert.Equal(t, want, info)

	modes, files := unpack(t, pkg.Bytes())
	var got []string
	for name := range files {
		got = append(got, strings.TrimPrefix(name, info.ID+"/"))
	}
	assert.ElementsMatch(t, wantFiles, got, "%s: the package holds exactly these files", root)
	for name, mode := range modes {
		assert.True(t, strings.HasPrefix(name, info.ID+"/"), "%s is outside the app's directory", name)
		if strings.HasSuffix(name, "/") {
			assert.Equal(t, int64(0o755), mode, name)
		} else {
			assert.Equal(t, int64(0o644), mode, name)
		}
	}
	for name, content := range files {
		src, err := os.ReadFile(root + strings.TrimPrefix(name, info.ID))
		require.NoError(t, err)
		assert.Equal(t, string(src), content, name)
	}

	var again bytes.Buffer
	_, err = Package(&again, os.DirFS(root))
	require.NoError(t, err)
	assert.Equal(t, pkg.Bytes(), again.Bytes(), "the same app gives the same package")
}

// An installation's local/ settings and hidden files never ship.
func TestPackageLeavesOutLocalAndHiddenFiles(t *testing.T) {
	app := appFS(t)
	app["local/macros.conf"] = &fstest.MapFile{Data: []byte("[auth0_index]\ndefinition = index=x\n")}
	app[".DS_Store"] = &fstest.MapFile{Data: []byte("x")}
	app["default/.props.conf.swp"] = &fstest.MapFile{Data: []byte("x")}
	var pkg bytes.Buffer
	_, err := Package(&pkg, app)
	require.NoError(t, err)
	modes, _ := unpack(t, pkg.Bytes())
	for name := range modes {
		assert.NotContains(t, name, "/local/")
		assert.NotContains(t, name, "/.")
	}
	assert.Contains(t, modes, "otelcol_auth0/default/app.conf")
}

// A package Splunk would refuse is not written.
func TestPackageRefusesABrokenApp(t *testing.T) {
	cases := map[string]struct {
		edit func(fstest.MapFS)
		err  string
	}{
		"id with a dash": {func(a fstest.MapFS) { replace(a, "id = otelcol_auth0\ncheck", "id = otelcol-auth0\ncheck") }, "[package] id"},
		"versions differ": {
			func(a fstest.MapFS) {
				replace(a, "[id]\nname = otelcol_auth0\nversion = 0.2.0", "[id]\nname = otelcol_auth0\nversion = 0.3.0")
			},
			"differs from [launcher] version",
		},
		"no build":        {func(a fstest.MapFS) { replace(a, "build = 2\n", "") }, "[install] build"},
		"no label":        {func(a fstest.MapFS) { replace(a, "label = Auth0 Sign-in Activity\n", "") }, "[ui] label"},
		"no metadata":     {func(a fstest.MapFS) { delete(a, "metadata/default.meta") }, "metadata/default.meta"},
		"broken app.conf": {func(a fstest.MapFS) { replace(a, "[ui]", "[ui") }, "stanza header"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			app := appFS(t)
			c.edit(app)
			_, err := Package(io.Discard, app)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

func appFS(t *testing.T) fstest.MapFS {
	t.Helper()
	app := fstest.MapFS{}
	for _, name := range []string{"default/app.conf", "metadata/default.meta", "default/macros.conf"} {
		data, err := os.ReadFile(appRoot + "/" + name)
		require.NoError(t, err)
		app[name] = &fstest.MapFile{Data: data, Mode: 0o600}
	}
	return app
}

func replace(app fstest.MapFS, old, replacement string) {
	f := app["default/app.conf"]
	if !strings.Contains(string(f.Data), old) {
		panic("app.conf has no " + old)
	}
	f.Data = []byte(strings.Replace(string(f.Data), old, replacement, 1))
}
