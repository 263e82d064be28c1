package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// fleetHelmValues is the part of the chart's values the fleet tests check.
type fleetHelmValues struct {
	helmValues
	FullnameOverride string            `json:"fullnameOverride"`
	ReplicaCount     int               `json:"replicaCount"`
	PodLabels        map[string]string `json:"podLabels"`
	ServiceAccount   struct {
		Create bool   `json:"create"`
		Name   string `json:"name"`
	} `json:"serviceAccount"`
	Service struct {
		Enabled   bool   `json:"enabled"`
		ClusterIP string `json:"clusterIP"`
	} `json:"service"`
	Ports map[string]struct {
		Enabled       bool  `json:"enabled"`
		ContainerPort int32 `json:"containerPort"`
	} `json:"ports"`
	Statefulset struct {
		PersistentVolumeClaimRetentionPolicy struct {
			Enabled    bool   `json:"enabled"`
			WhenScaled string `json:"whenScaled"`
		} `json:"persistentVolumeClaimRetentionPolicy"`
		VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
	} `json:"statefulset"`
	PodDisruptionBudget struct {
		Enabled        bool `json:"enabled"`
		MaxUnavailable int  `json:"maxUnavailable"`
	} `json:"podDisruptionBudget"`
	NetworkPolicy struct {
		Enabled          bool `json:"enabled"`
		AllowIngressFrom []struct {
			PodSelector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"podSelector"`
		} `json:"allowIngressFrom"`
	} `json:"networkPolicy"`
	ExtraEnvsFull     []corev1.EnvVar             `json:"extraEnvs"`
	ExtraVolumes      []corev1.Volume             `json:"extraVolumes"`
	ExtraVolumeMounts []corev1.VolumeMount        `json:"extraVolumeMounts"`
	ExtraManifests    []map[string]any            `json:"extraManifests"`
	TerminationGrace  int64                       `json:"terminationGracePeriodSeconds"`
	Resources         corev1.ResourceRequirements `json:"resources"`
}

func readFleetValues(t *testing.T, file string) fleetHelmValues {
	t.Helper()
	var v fleetHelmValues
	readYAML(t, filepath.Join(root, "deploy", "helm", file), &v)
	return v
}

func readConfig(t *testing.T, path string) map[string]any {
	t.Helper()
	var c map[string]any
	readYAML(t, path, &c)
	return c
}

func (v fleetHelmValues) env() map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range v.ExtraEnvsFull {
		out[e.Name] = e
	}
	return out
}

func (v fleetHelmValues) mount(t *testing.T, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range v.ExtraVolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("nothing mounted at %s", path)
	return corev1.VolumeMount{}
}

func (v fleetHelmValues) volume(t *testing.T, name string) corev1.Volume {
	t.Helper()
	for _, vol := range v.ExtraVolumes {
		if vol.Name == name {
			return vol
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

// The Helm values of both tiers run the same configurations as the fleet
// overlay, and agree with each other on names, labels and secrets.
func TestFleetHelmValues(t *testing.T) {
	agent := readFleetValues(t, "fleet-agent-values.yaml")
	gateway := readFleetValues(t, "fleet-gateway-values.yaml")

	assert.Equal(t, "daemonset", agent.Mode)
	assert.Equal(t, "statefulset", gateway.Mode)
	for _, v := range []fleetHelmValues{agent, gateway} {
		assert.Equal(t, "ghcr.io/otelcol-auth0/otelcol-auth0", v.Image.Repository)
		assert.Equal(t, "otelcol-auth0", v.Command.Name)
	}

	// The configurations.
	wantAgent := dropNulls(merge(readConfig(t, filepath.Join(root, "config", "agent.yaml")), readConfig(t, filepath.Join(fleetDir, "agent-kubernetes.yaml"))))
	assert.Equal(t, wantAgent, dropNulls(agent.Config), "fleet-agent-values.yaml config must be config/agent.yaml plus agent-kubernetes.yaml")
	assert.Equal(t, readConfig(t, filepath.Join(root, "config", "gateway.yaml")), dropNulls(gateway.Config), "fleet-gateway-values.yaml config must be config/gateway.yaml")

	// The agents' resolver watches the gateway release's headless Service.
	raw, err := yaml.Marshal(agent.Config)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "service: "+gateway.FullnameOverride+".${env:K8S_NAMESPACE}")
	assert.Equal(t, "None", gateway.Service.ClusterIP)
	assert.True(t, gateway.Service.Enabled)
	assert.Equal(t, int32(4317), gateway.Ports["otlp"].ContainerPort)
	assert.True(t, gateway.Ports["otlp"].Enabled)
	assert.Equal(t, "$(MY_POD_IP):4317", gateway.env()["OTELCOL_GATEWAY_LISTEN"].Value)
	assert.GreaterOrEqual(t, gateway.ReplicaCount, 2)

	// The resolver's permissions, namespaced, bound to the agents' account.
	assert.True(t, agent.ServiceAccount.Create)
	var role, binding map[string]any
	for _, m := range agent.ExtraManifests {
		switch m["kind"] {
		case "Role":
			role = m
		case "RoleBinding":
			binding = m
		}
	}
	require.NotNil(t, role)
	require.NotNil(t, binding)
	roleYAML, err := yaml.Marshal(role["rules"])
	require.NoError(t, err)
	assert.YAMLEq(t, "[{apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [get, list, watch]}]", string(roleYAML))
	bindingYAML, err := yaml.Marshal(binding)
	require.NoError(t, err)
	assert.Contains(t, string(bindingYAML), "name: "+agent.ServiceAccount.Name)
	assert.Contains(t, string(bindingYAML), "name: "+role["metadata"].(map[string]any)["name"].(string))

	// Only the agents' pods reach the gateways.
	require.True(t, gateway.NetworkPolicy.Enabled)
	require.Len(t, gateway.NetworkPolicy.AllowIngressFrom, 1)
	assert.Equal(t, agent.PodLabels, gateway.NetworkPolicy.AllowIngressFrom[0].PodSelector.MatchLabels)
	assert.True(t, gateway.PodDisruptionBudget.Enabled)
	assert.Equal(t, 1, gateway.PodDisruptionBudget.MaxUnavailable)

	// A claim per gateway, mounted where the storage directory points, kept
	// when scaled down.
	require.Len(t, gateway.Statefulset.VolumeClaimTemplates, 1)
	claim := gateway.Statefulset.VolumeClaimTemplates[0].Name
	assert.Equal(t, claim, gateway.mount(t, gateway.env()["OTELCOL_STORAGE_DIR"].Value).Name)
	assert.True(t, gateway.Statefulset.PersistentVolumeClaimRetentionPolicy.Enabled)
	assert.Equal(t, "Retain", gateway.Statefulset.PersistentVolumeClaimRetentionPolicy.WhenScaled)

	// Mutual TLS: each tier's key pair and the CA from its Secret, the
	// certificates issued by the gateway release for the names the agents
	// dial and for the agents.
	certificates := map[string]map[string]any{}
	for _, m := range gateway.ExtraManifests {
		if m["kind"] == "Certificate" {
			spec := m["spec"].(map[string]any)
			certificates[spec["secretName"].(string)] = spec
		}
	}
	for _, tier := range []struct {
		values fleetHelmValues
		files  map[string]string // env -> key in the Secret
		usage  string
	}{
		{gateway, map[string]string{"OTELCOL_GATEWAY_TLS_CERT_FILE": "tls.crt", "OTELCOL_GATEWAY_TLS_KEY_FILE": "tls.key", "OTELCOL_GATEWAY_CLIENT_CA_FILE": "ca.crt"}, "server auth"},
		{agent, map[string]string{"OTELCOL_AGENT_TLS_CERT_FILE": "tls.crt", "OTELCOL_AGENT_TLS_KEY_FILE": "tls.key", "OTELCOL_GATEWAY_CA_FILE": "ca.crt"}, "client auth"},
	} {
		var secretName string
		for name, key := range tier.files {
			file := tier.values.env()[name].Value
			require.NotEmpty(t, file, name)
			vol := tier.values.volume(t, tier.values.mount(t, filepath.Dir(file)).Name)
			require.NotNil(t, vol.Secret, name)
			assert.Contains(t, vol.Secret.Items, corev1.KeyToPath{Key: key, Path: filepath.Base(file)}, name)
			secretName = vol.Secret.SecretName
		}
		spec := certificates[secretName]
		require.NotNil(t, spec, "a certificate for %s", secretName)
		assert.Contains(t, spec["usages"], tier.usage)
		assert.Equal(t, "otelcol-auth0-gateway-ca", spec["issuerRef"].(map[string]any)["name"])
	}
	assert.Contains(t, certificates["otelcol-auth0-gateway-tls"]["dnsNames"], "*."+gateway.FullnameOverride+".{{ .Release.Namespace }}")

	// Secrets from Secrets; the agents hold none of the gateways'.
	for name, secret := range map[string]string{"AUTH0_RECEIVER_SECRET": "otelcol-auth0-secrets"} {
		e := agent.env()[name]
		require.NotNil(t, e.ValueFrom, name)
		assert.Equal(t, secret, e.ValueFrom.SecretKeyRef.Name, name)
	}
	for name, secret := range map[string]string{"SPLUNK_HEC_TOKEN": "otelcol-auth0-secrets", "AUTH0_CLIENT_SECRET": "otelcol-auth0-secrets"} {
		e := gateway.env()[name]
		require.NotNil(t, e.ValueFrom, name)
		assert.Equal(t, secret, e.ValueFrom.SecretKeyRef.Name, name)
	}
	for _, name := range []string{"SPLUNK_HEC_TOKEN", "AUTH0_CLIENT_SECRET"} {
		assert.NotContains(t, agent.env(), name)
	}
	assert.Greater(t, agent.TerminationGrace, int64(75))
	assert.Greater(t, gateway.TerminationGrace, int64(75))
}

// Both tiers' Helm configurations pass `otelcol-auth0 validate`.
func TestFleetHelmConfigsValidate(t *testing.T) {
	for _, file := range []string{"fleet-agent-values.yaml", "fleet-gateway-values.yaml"} {
		t.Run(file, func(t *testing.T) {
			v := readFleetValues(t, file)
			raw, err := yaml.Marshal(dropNulls(v.Config))
			require.NoError(t, err)
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(path, raw, 0o600))
			env := []string{"PATH=" + os.Getenv("PATH"), "MY_POD_IP=10.0.0.7", "K8S_NODE_NAME=n", "K8S_POD_NAME=p", "K8S_NAMESPACE=ns"}
			for _, e := range v.ExtraEnvsFull {
				value := strings.ReplaceAll(e.Value, "$(MY_POD_IP)", "10.0.0.7")
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					value = "secret-value"
				}
				switch e.Name {
				case "OTELCOL_STORAGE_DIR":
					value = dir
				case "AUTH0_DOMAIN":
					// The fleet needs the Management API: filled in by the
					// platform team (docs/fleet.md).
					value = "acme.eu.auth0.com"
				case "AUTH0_CLIENT_ID":
					value = "client-id"
				}
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef != nil {
					env = append(env, e.Name+"="+value)
				}
			}
			assert.Empty(t, validate(t, env, "--config="+path))
		})
	}
}
