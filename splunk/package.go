// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package splunk

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The two packages, by directory relative to the repository root: the
// add-on (parse and search-time knowledge, every Splunk tier) and the app
// (dashboard, reports, alerts; search heads only).
const (
	TADir  = "splunk/TA_otelcol_auth0"
	AppDir = "splunk/otelcol_auth0"
)

// AppInfo is what app.conf says of the app.
type AppInfo struct {
	ID      string
	Version string
	Build   int
}

// appIDPattern is app.conf.spec's rule for [package] id: letters, digits,
// dots and underscores, not ending with a dot.
var appIDPattern = regexp.MustCompile(`^[A-Za-z0-9._]*[A-Za-z0-9_]$`)

// ReadAppInfo reads default/app.conf of the app in app and checks what
// Splunk's packaging requires of it: [package] id, [launcher] version and
// [id] version that agree, a positive [install] build, a [ui] label.
func ReadAppInfo(app fs.FS) (AppInfo, error) {
	data, err := fs.ReadFile(app, "default/app.conf")
	if err != nil {
		return AppInfo{}, err
	}
	conf, err := ParseConf(data)
	if err != nil {
		return AppInfo{}, fmt.Errorf("default/app.conf: %w", err)
	}
	get := func(stanza, key string) string {
		if s, ok := conf.Stanza(stanza); ok {
			v, _ := s.Get(key)
			return v
		}
		return ""
	}
	var info AppInfo
	var errs []error
	info.ID = get("package", "id")
	if !appIDPattern.MatchString(info.ID) {
		errs = append(errs, fmt.Errorf("[package] id %q: letters, digits, dots and underscores, not ending with a dot", info.ID))
	}
	info.Version = get("launcher", "version")
	if info.Version == "" {
		errs = append(errs, errors.New("[launcher] version is required"))
	}
	if v := get("id", "version"); v != "" && v != info.Version {
		errs = append(errs, fmt.Errorf("[id] version %q differs from [launcher] version %q", v, info.Version))
	}
	if name := get("id", "name"); name != "" && name != info.ID {
		errs = append(errs, fmt.Errorf("[id] name %q differs from [package] id %q", name, info.ID))
	}
	info.Build, err = strconv.Atoi(get("install", "build"))
	if err != nil || info.Build <= 0 {
		errs = append(errs, fmt.Errorf("[install] build must be a positive integer, not %q", get("install", "build")))
	}
	if get("ui", "label") == "" {
		errs = append(errs, errors.New("[ui] label is required"))
	}
	return info, errors.Join(errs...)
}

// packagedAt is every entry's modification time: the same app gives the
// same archive, byte for byte.
var packagedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Package writes the app in app as the .tgz Splunk installs ("Install app
// from file", a deployment server, AppInspect): one top-level directory
// named after the app's id, files 0644 and directories 0755 owned by root.
// Hidden files and a local/ directory (an installation's own settings) are
// left out. It returns what app.conf says of the app.
func Package(w io.Writer, app fs.FS) (AppInfo, error) {
	info, err := ReadAppInfo(app)
	if err != nil {
		return info, err
	}
	for _, required := range []string{"default/app.conf", "metadata/default.meta"} {
		if _, err := fs.Stat(app, required); err != nil {
			return info, fmt.Errorf("the app has no %s", required)
		}
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return info, err
	}
	tw := tar.NewWriter(zw)
	header := func(name string, mode int64, typ byte, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Typeflag: typ, Size: size, ModTime: packagedAt, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(header(info.ID+"/", 0o755, tar.TypeDir, 0)); err != nil {
		return info, err
	}
	err = fs.WalkDir(app, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		base := path.Base(p)
		if strings.HasPrefix(base, ".") || p == "local" {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := info.ID + "/" + p
		switch {
		case d.IsDir():
			return tw.WriteHeader(header(name+"/", 0o755, tar.TypeDir, 0))
		case d.Type().IsRegular():
			data, err := fs.ReadFile(app, p)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(header(name, 0o644, tar.TypeReg, int64(len(data)))); err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		default:
			return fmt.Errorf("%s: only files and directories go into an app", p)
		}
	})
	if err != nil {
		return info, err
	}
	if err := tw.Close(); err != nil {
		return info, err
	}
	return info, zw.Close()
}
