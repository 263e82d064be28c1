// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const monitoringDir = root + "/deploy/kubernetes/monitoring"

// The Prometheus Operator's types are not a dependency of this module:
// these hold the fields the component uses, decoded strictly, so that a
// misspelled or misplaced key fails here instead of being dropped by the
// operator's admission.
type relabeling struct {
	Action       string   `json:"action,omitempty"`
	SourceLabels []string `json:"sourceLabels,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Replacement  string   `json:"replacement,omitempty"`
}

type podMetricsEndpoint struct {
	Port        string       `json:"port"`
	Path        string       `json:"path,omitempty"`
	Interval    string       `json:"interval,omitempty"`
	HonorLabels bool         `json:"honorLabels,omitempty"`
	Relabelings []relabeling `json:"relabelings,omitempty"`
}

type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []podMetricsEndpoint `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// monitored is a layout with the monitoring component added.
type monitored struct {
	monitor   *podMonitor
	rules     *prometheusRule
	dashboard *corev1.ConfigMap
	pods      map[string]corev1.PodTemplateSpec // by workload name
}

// buildMonitored renders layout (base, redis, pull) with the component, as
// an overlay of the user's would: `components: [../monitoring]`.
func buildMonitored(t *testing.T, layout string) monitored {
	t.Helper()
	dir := t.TempDir()
	rel := func(p string) string {
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		r, err := filepath.Rel(dir, abs)
		require.NoError(t, err)
		return r
	}
	kustomization := "namespace: otelcol-auth0\nresources:\n  - " + rel(layout) + "\ncomponents:\n  - " + rel(monitoringDir) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o600))
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	m := monitored{pods: map[string]corev1.PodTemplateSpec{}}
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		switch res.GetKind() {
		case "PodMonitor":
			require.Nil(t, m.monitor, "one PodMonitor")
			m.monitor = &podMonitor{}
			require.NoError(t, yaml.UnmarshalStrict(doc, m.monitor))
		case "PrometheusRule":
			require.Nil(t, m.rules, "one PrometheusRule")
			m.rules = &prometheusRule{}
			require.NoError(t, yaml.UnmarshalStrict(doc, m.rules))
		default:
			switch obj := decodeStrict(t, doc).(type) {
			case *appsv1.DaemonSet:
				m.pods[obj.Name] = obj.Spec.Template
			case *appsv1.Deployment:
				m.pods[obj.Name] = obj.Spec.Template
			case *corev1.ConfigMap:
				if obj.Labels["grafana_dashboard"] != "" {
					m.dashboard = obj
				}
			}
		}
	}
	require.NotNil(t, m.monitor, "PodMonitor")
	require.NotNil(t, m.rules, "PrometheusRule")
	require.NotNil(t, m.dashboard, "the dashboard's ConfigMap")
	return m
}

// The PodMonitor scrapes every collector pod of each layout (the pull
// poller too) on a port that exists and that the collector listens on at
// the pod IP, and names the job the rules and the dashboard select.
func TestMonitoringComponentScrapesTheCollectors(t *testing.T) {
	for _, layout := range []string{kubernetesDir, redisDir, pullDir} {
		t.Run(filepath.Base(layout), func(t *testing.T) {
			m := buildMonitored(t, layout)
			pm := m.monitor
			assert.Equal(t, "monitoring.coreos.com/v1", pm.APIVersion)
			assert.Equal(t, "otelcol-auth0", pm.Namespace, "the PodMonitor joins the layout's namespace")
			assert.Equal(t, "otelcol-auth0", m.rules.Namespace)
			selector, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
			require.NoError(t, err)
			require.NotEmpty(t, m.pods)
			require.Len(t, pm.Spec.PodMetricsEndpoints, 1)
			ep := pm.Spec.PodMetricsEndpoints[0]
			interval, err := time.ParseDuration(ep.Interval)
			require.NoError(t, err)
			assert.LessOrEqual(t, interval, 30*time.Second, "a drain (45s) must be seen")
			assert.Equal(t, []relabeling{{Action: "replace", TargetLabel: "job", Replacement: "otelcol-auth0"}}, ep.Relabelings)
			for name, pod := range m.pods {
				if !strings.HasPrefix(name, "otelcol-auth0") {
					continue // Redis of the example
				}
				assert.True(t, selector.Matches(labels.Set(pod.Labels)), "the PodMonitor selects %s", name)
				c := pod.Spec.Containers[0]
				port := containerPort(t, c, ep.Port)
				assert.EqualValues(t, 8888, port, "the collector's metrics port (otelcol-config.yaml)")
				assert.Equal(t, "$(K8S_POD_IP)", envOf(c)["OTELCOL_METRICS_ADDRESS"], "%s: metrics on the pod IP, where Prometheus scrapes", name)
			}
		})
	}
}

var docAnchor = regexp.MustCompile(`^https://github\.com/otelcol-auth0/otelcol-auth0/blob/main/docs/monitoring\.md#([a-z0-9-]+)$`)

// githubAnchors are the anchors GitHub gives the headings of a Markdown file.
func githubAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]bool{}
	strip := regexp.MustCompile(`[^a-z0-9 _-]`)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		out[strings.ReplaceAll(strip.ReplaceAllString(h, ""), " ", "-")] = true
	}
	return out
}

// Every alert has a severity, a summary and a description, a valid "for",
// selects the PodMonitor's job, and points to its runbook section in
// docs/monitoring.md, which exists.
func TestAlertsHaveRunbooks(t *testing.T) {
	m := buildMonitored(t, kubernetesDir)
	assert.Equal(t, "monitoring.coreos.com/v1", m.rules.APIVersion)
	anchors := githubAnchors(t, filepath.Join(root, "docs", "monitoring.md"))
	var alerts []string
	for _, g := range m.rules.Spec.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "only alerts in this group: %s", r.Expr)
			assert.NotContains(t, alerts, r.Alert, "alert names are unique")
			alerts = append(alerts, r.Alert)
			assert.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], r.Alert)
			if r.For != "" {
				_, err := time.ParseDuration(r.For)
				assert.NoError(t, err, r.Alert)
			}
			assert.Contains(t, r.Expr, `job="otelcol-auth0"`, "%s selects the collectors' job, not every collector's", r.Alert)
			match := docAnchor.FindStringSubmatch(r.Annotations["runbook_url"])
			if assert.NotNil(t, match, "%s: runbook_url into docs/monitoring.md", r.Alert) {
				assert.Equal(t, strings.ToLower(r.Alert), match[1], "%s: runbook_url names its own section", r.Alert)
				assert.True(t, anchors[match[1]], "%s: docs/monitoring.md has no section #%s", r.Alert, match[1])
			}
		}
	}
	assert.GreaterOrEqual(t, len(alerts), 10)
}

// The dashboard's ConfigMap carries grafana-dashboard.json as it is, and
// every query selects the collectors' job.
func TestGrafanaDashboard(t *testing.T) {
	m := buildMonitored(t, kubernetesDir)
	raw, err := os.ReadFile(filepath.Join(monitoringDir, "grafana-dashboard.json"))
	require.NoError(t, err)
	assert.Equal(t, "otelcol-auth0-grafana-dashboard", m.dashboard.Name, "a fixed name: an update replaces the dashboard")
	require.Len(t, m.dashboard.Data, 1)
	for _, v := range m.dashboard.Data {
		assert.Equal(t, string(raw), v)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.Equal(t, "otelcol-auth0", d.UID)
	queries := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, p.Title)
		for _, q := range p.Targets {
			assert.Contains(t, q.Expr, `job="otelcol-auth0"`, p.Title)
			queries++
		}
	}
	assert.GreaterOrEqual(t, queries, 20)
}

// The Helm values scrape the DaemonSet the same way: the chart's
// PodMonitor on the metrics port, with the same job.
func TestHelmPodMonitor(t *testing.T) {
	var values struct {
		Ports map[string]struct {
			Enabled       bool  `json:"enabled"`
			ContainerPort int32 `json:"containerPort"`
		} `json:"ports"`
		PodMonitor struct {
			Enabled          bool                 `json:"enabled"`
			MetricsEndpoints []podMetricsEndpoint `json:"metricsEndpoints"`
		} `json:"podMonitor"`
		ExtraEnvs []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"extraEnvs"`
	}
	readYAML(t, filepath.Join(root, "deploy", "helm", "values.yaml"), &values)
	assert.True(t, values.PodMonitor.Enabled)
	require.Len(t, values.PodMonitor.MetricsEndpoints, 1)
	ep := values.PodMonitor.MetricsEndpoints[0]
	port, ok := values.Ports[ep.Port]
	require.True(t, ok, "ports.%s", ep.Port)
	assert.True(t, port.Enabled)
	assert.EqualValues(t, 8888, port.ContainerPort)
	m := buildMonitored(t, kubernetesDir)
	assert.Equal(t, m.monitor.Spec.PodMetricsEndpoints[0].Relabelings, ep.Relabelings, "the job the rules select")
	assert.Equal(t, m.monitor.Spec.PodMetricsEndpoints[0].HonorLabels, ep.HonorLabels, "the collector's endpoint label")
	assert.True(t, slices.ContainsFunc(values.ExtraEnvs, func(e struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	},
	) bool {
		return e.Name == "OTELCOL_METRICS_ADDRESS" && e.Value == "$(MY_POD_IP)"
	}), "metrics on the pod IP")
}
