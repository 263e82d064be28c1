// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package hecfields reads and changes the choice of index-time fields (the
// HEC "fields") of a collector configuration: its transform/hec_fields
// processor, whose keep_keys statement lists the attributes the splunk_hec
// exporter may turn into fields. Tests use it to run the shipped choice,
// or to opt in to more fields by name as a user would.
package hecfields // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/hecfields"

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// Processor is the processor of otelcol-config.yaml that chooses the
// index-time fields, and keepKeys the start of its statement that lists them.
const (
	Processor = "transform/hec_fields"
	keepKeys  = "keep_keys(log.attributes, ["
)

// Config returns the Processor's configuration in the collector
// configuration at path, with names added to the attributes it keeps.
func Config(path string, names ...string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	retrieved, err := confmap.NewRetrievedFromYAML(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	conf, err := retrieved.AsConf()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg, ok := conf.Get("processors::" + Processor).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s has no processor %s", path, Processor)
	}
	groups, _ := cfg["log_statements"].([]any)
	found := 0
	for _, group := range groups {
		g, _ := group.(map[string]any)
		statements, _ := g["statements"].([]any)
		for i, st := range statements {
			text, _ := st.(string)
			if !strings.HasPrefix(text, keepKeys) {
				continue
			}
			found++
			var added strings.Builder
			for _, n := range names {
				added.WriteString(strconv.Quote(n) + ", ")
			}
			statements[i] = keepKeys + added.String() + strings.TrimPrefix(text, keepKeys)
		}
	}
	if found != 1 {
		return nil, fmt.Errorf("%s: %s has %d statements starting %q, want 1", path, Processor, found, keepKeys)
	}
	return cfg, nil
}

// Overlay returns a --config argument that adds names to the index-time
// fields of the collector configuration at path: the Processor's
// statements restated with the names added, as a user opting in writes them.
func Overlay(path string, names ...string) (string, error) {
	cfg, err := Config(path, names...)
	if err != nil {
		return "", err
	}
	// JSON is YAML's flow style.
	statements, err := json.Marshal(cfg["log_statements"])
	if err != nil {
		return "", err
	}
	return "yaml:processors::" + Processor + "::log_statements: " + string(statements), nil
}
