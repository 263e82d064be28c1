// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package hecfields

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

const shipped = "../../../otelcol-config.yaml"

// Every shipped configuration whose exporter is splunk_hec chooses the
// same index-time fields as otelcol-config.yaml, on the pipeline that
// feeds splunk_hec alone.
func TestShippedConfigsAgree(t *testing.T) {
	want, err := Config(shipped)
	require.NoError(t, err)
	paths := []string{shipped, "../../../deploy/kubernetes/base/otelcol-config.yaml"}
	// The Helm values hold a collector configuration under "config".
	paths = append(paths, helmConfig(t, "../../../deploy/helm/values.yaml"))
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			got, err := Config(path)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			conf, err := confmap.NewRetrievedFromYAML(raw)
			require.NoError(t, err)
			c, err := conf.AsConf()
			require.NoError(t, err)
			pipelines := c.Get("service::pipelines").(map[string]any)
			for name, p := range pipelines {
				pipeline, ok := p.(map[string]any)
				if !ok {
					continue // the chart's default pipelines, turned off with null
				}
				exporters, processors := toStrings(pipeline["exporters"]), toStrings(pipeline["processors"])
				if slices.Contains(exporters, "splunk_hec") {
					assert.Equal(t, []string{"splunk_hec"}, exporters, "%s: splunk_hec alone behind the field choice", name)
					assert.Equal(t, []string{Processor}, processors, "%s: the field choice, and only it", name)
				} else {
					assert.NotContains(t, processors, Processor, "%s: the field choice on a pipeline other exporters share", name)
				}
			}
		})
	}
}

func TestConfigAddsNames(t *testing.T) {
	cfg, err := Config(shipped, "user.id", "auth0.log_id")
	require.NoError(t, err)
	statements := cfg["log_statements"].([]any)[0].(map[string]any)["statements"].([]any)
	assert.Contains(t, statements[0], `keep_keys(log.attributes, ["user.id", "auth0.log_id", "auth0.event", `)

	overlay, err := Overlay(shipped, "user.id")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(overlay, "yaml:processors::transform/hec_fields::log_statements: [{"), overlay)
	assert.Contains(t, overlay, `keep_keys(log.attributes, [\"user.id\", \"auth0.event\"`)

	_, err = Config("../../../config/pull.yaml")
	assert.ErrorContains(t, err, "has no processor transform/hec_fields")
}

// helmConfig writes the collector configuration of a Helm values file to a
// file of its own, named after the values file.
func helmConfig(t *testing.T, values string) string {
	raw, err := os.ReadFile(values)
	require.NoError(t, err)
	retrieved, err := confmap.NewRetrievedFromYAML(raw)
	require.NoError(t, err)
	conf, err := retrieved.AsConf()
	require.NoError(t, err)
	sub, err := conf.Sub("config")
	require.NoError(t, err)
	out, err := yaml.Marshal(sub.ToStringMap())
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "helm", filepath.Base(values))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, out, 0o600))
	return path
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
