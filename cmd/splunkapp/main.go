// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Command splunkapp packages a Splunk app or add-on directory (the add-on
// splunk/TA_otelcol_auth0, the app splunk/otelcol_auth0) as the .tgz
// Splunk installs. `make splunk-app` builds both:
//
//	go run ./cmd/splunkapp -app splunk/TA_otelcol_auth0 -o _build/TA_otelcol_auth0.tgz
//	go run ./cmd/splunkapp -app splunk/otelcol_auth0 -o _build/otelcol_auth0.tgz
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/otelcol-auth0/otelcol-auth0/splunk"
)

func main() {
	app := flag.String("app", splunk.AppDir, "the app's directory")
	out := flag.String("o", "_build/otelcol_auth0.tgz", "the package to write")
	flag.Parse()
	if err := run(*app, *out); err != nil {
		log.Fatalf("splunkapp: %v", err)
	}
}

func run(app, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".splunkapp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	info, err := splunk.Package(tmp, os.DirFS(app))
	if err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", app, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Printf("%s: Splunk app %s %s (build %d)\n", out, info.ID, info.Version, info.Build)
	return nil
}
