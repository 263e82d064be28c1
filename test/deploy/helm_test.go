// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// helmValues is the part of the chart's values the test checks.
type helmValues struct {
	Mode  string `json:"mode"`
	Image struct {
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
	} `json:"image"`
	Command struct {
		Name string `json:"name"`
	} `json:"command"`
	Config    map[string]any `json:"config"`
	ExtraEnvs []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"extraEnvs"`
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, into))
}

// dropNulls removes the keys set to null: in Helm values they delete the
// chart's defaults and are not part of the resulting configuration.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e != nil {
				out[k] = dropNulls(e)
			}
		}
		return out
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
		return x
	default:
		return v
	}
}

// merge applies a collector config overlay the way the collector merges
// several --config files: maps merge, everything else is replaced.
func merge(base, overlay map[string]any) map[string]any {
	for k, v := range overlay {
		if bm, ok := base[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				base[k] = merge(bm, om)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// The Helm values run the same image and the same configuration as the
// raw manifests.
func TestHelmValues(t *testing.T) {
	var values helmValues
	readYAML(t, filepath.Join(root, "deploy", "helm", "values.yaml"), &values)
	assert.Equal(t, "daemonset", values.Mode)
	assert.Equal(t, "ghcr.io/otelcol-auth0/otelcol-auth0", values.Image.Repository)
	assert.Equal(t, "otelcol-auth0", values.Command.Name, "the chart runs /<command.name>: the Dockerfile's binary")

	var base, k8s map[string]any
	readYAML(t, filepath.Join(root, "otelcol-config.yaml"), &base)
	readYAML(t, filepath.Join(kubernetesDir, "otelcol-kubernetes.yaml"), &k8s)
	assert.Equal(t, merge(base, k8s), dropNulls(values.Config), "deploy/helm/values.yaml config must be otelcol-config.yaml plus otelcol-kubernetes.yaml")

	envs := map[string]bool{}
	for _, e := range values.ExtraEnvs {
		envs[e.Name] = true
	}
	for _, name := range []string{"AUTH0_RECEIVER_ENDPOINT", "AUTH0_RECEIVER_SECRET", "SPLUNK_HEC_ENDPOINT", "SPLUNK_HEC_TOKEN", "OTELCOL_STORAGE_DIR", "K8S_NODE_NAME", "K8S_POD_NAME"} {
		assert.True(t, envs[name], "extraEnvs sets %s", name)
	}
}

// The Helm configuration passes `otelcol-auth0 validate`.
func TestHelmConfigValidates(t *testing.T) {
	var values helmValues
	readYAML(t, filepath.Join(root, "deploy", "helm", "values.yaml"), &values)
	raw, err := yaml.Marshal(dropNulls(values.Config))
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"AUTH0_RECEIVER_ENDPOINT=10.0.0.7:8080", "AUTH0_RECEIVER_SECRET=s", "SPLUNK_HEC_ENDPOINT=https://splunk.example:8088/services/collector",
		"SPLUNK_HEC_TOKEN=t", "OTELCOL_STORAGE_DIR=" + dir, "K8S_NODE_NAME=n", "K8S_POD_NAME=p", "K8S_NAMESPACE=ns",
	}
	assert.Empty(t, validate(t, env, "--config="+path))
}
