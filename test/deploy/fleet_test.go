package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const fleetDir = root + "/deploy/kubernetes/fleet"

// certManagerIssuer and certManagerCertificate are the cert-manager.io/v1
// fields these manifests use (cert-manager's Go module is not worth its
// weight here): a field outside them fails strict decoding.
type certManagerIssuer struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		SelfSigned *struct{} `json:"selfSigned,omitempty"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca,omitempty"`
	} `json:"spec"`
}

type certManagerCertificate struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		IsCA        bool     `json:"isCA,omitempty"`
		CommonName  string   `json:"commonName,omitempty"`
		SecretName  string   `json:"secretName"`
		DNSNames    []string `json:"dnsNames,omitempty"`
		Duration    string   `json:"duration,omitempty"`
		RenewBefore string   `json:"renewBefore,omitempty"`
		Usages      []string `json:"usages,omitempty"`
		PrivateKey  *struct {
			Algorithm      string `json:"algorithm"`
			Size           int    `json:"size"`
			RotationPolicy string `json:"rotationPolicy,omitempty"`
		} `json:"privateKey,omitempty"`
		IssuerRef struct {
			Name  string `json:"name"`
			Kind  string `json:"kind"`
			Group string `json:"group"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

// fleetRendered is what `kubectl apply -k deploy/kubernetes/fleet` would apply.
type fleetRendered struct {
	namespace      string
	settings       *corev1.ConfigMap
	agentConfig    *corev1.ConfigMap
	gatewayConfig  *corev1.ConfigMap
	daemonSet      *appsv1.DaemonSet
	statefulSet    *appsv1.StatefulSet
	drain          *appsv1.Deployment
	headless       *corev1.Service
	serviceAccount *corev1.ServiceAccount
	role           *rbacv1.Role
	roleBinding    *rbacv1.RoleBinding
	pdb            *policyv1.PodDisruptionBudget
	policy         *networkingv1.NetworkPolicy
	issuers        map[string]*certManagerIssuer
	certificates   map[string]*certManagerCertificate
}

func buildFleet(t *testing.T) fleetRendered {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), fleetDir)
	require.NoError(t, err)
	r := fleetRendered{issuers: map[string]*certManagerIssuer{}, certificates: map[string]*certManagerCertificate{}}
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		switch obj := decodeStrict(t, doc).(type) {
		case *corev1.Namespace:
			r.namespace = obj.Name
		case *corev1.ConfigMap:
			switch {
			case strings.HasPrefix(obj.Name, "otelcol-auth0-gateway-config"):
				r.gatewayConfig = obj
			case strings.HasPrefix(obj.Name, "otelcol-auth0-config"):
				r.agentConfig = obj
			default:
				r.settings = obj
			}
		case *appsv1.DaemonSet:
			r.daemonSet = obj
		case *appsv1.StatefulSet:
			r.statefulSet = obj
		case *appsv1.Deployment:
			r.drain = obj
		case *corev1.Service:
			if obj.Spec.ClusterIP == corev1.ClusterIPNone {
				r.headless = obj
			}
		case *corev1.ServiceAccount:
			r.serviceAccount = obj
		case *rbacv1.Role:
			r.role = obj
		case *rbacv1.RoleBinding:
			r.roleBinding = obj
		case *policyv1.PodDisruptionBudget:
			r.pdb = obj
		case *networkingv1.NetworkPolicy:
			r.policy = obj
		case *certManagerIssuer:
			r.issuers[obj.Metadata.Name] = obj
		case *certManagerCertificate:
			r.certificates[obj.Metadata.Name] = obj
		case *networkingv1.Ingress:
		default:
			t.Fatalf("unexpected object %T in the fleet kustomization", obj)
		}
	}
	for name, present := range map[string]bool{
		"settings": r.settings != nil, "agent config": r.agentConfig != nil, "gateway config": r.gatewayConfig != nil,
		"DaemonSet": r.daemonSet != nil, "StatefulSet": r.statefulSet != nil, "drain Deployment": r.drain != nil,
		"headless Service": r.headless != nil, "ServiceAccount": r.serviceAccount != nil, "Role": r.role != nil,
		"RoleBinding": r.roleBinding != nil, "PodDisruptionBudget": r.pdb != nil, "NetworkPolicy": r.policy != nil,
	} {
		require.True(t, present, "%s missing from the fleet kustomization", name)
	}
	return r
}

func selects(t *testing.T, selector map[string]string, podLabels map[string]string) bool {
	t.Helper()
	return labels.SelectorFromSet(selector).Matches(labels.Set(podLabels))
}

func labelSelects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err)
	return s.Matches(labels.Set(podLabels))
}

// envDefault reads the default of ${env:NAME:-default} in a configuration.
func envDefault(t *testing.T, config, name string) string {
	t.Helper()
	m := regexp.MustCompile(`\$\{env:` + name + `:-([^}]*)\}`).FindStringSubmatch(config)
	require.NotNil(t, m, "%s has no default in the configuration", name)
	return m[1]
}

func TestFleetEveryManifestDecodesStrictly(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fleetDir, "*.yaml"))
	require.NoError(t, err)
	decoded := 0
	for _, f := range files {
		switch filepath.Base(f) {
		case "kustomization.yaml", "agent.yaml", "agent-kubernetes.yaml", "gateway.yaml", "daemonset-patch.yaml":
			continue // kustomize's own file; collector configurations; a patch with $patch directives
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, doc := range bytes.Split(raw, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) != 0 {
				decodeStrict(t, doc)
				decoded++
			}
		}
	}
	assert.GreaterOrEqual(t, decoded, 14)
}

// The agents: the base DaemonSet running agent.yaml, allowed to watch the
// gateways' EndpointSlices and nothing more, trusting the gateways' CA,
// without the secrets only the gateways need.
func TestFleetAgents(t *testing.T) {
	r := buildFleet(t)
	ds := r.daemonSet
	pod := ds.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := envOf(c)

	assert.Equal(t, []string{"--config=/etc/otelcol-auth0/agent.yaml", "--config=/etc/otelcol-auth0/agent-kubernetes.yaml"}, c.Args)
	for _, arg := range c.Args {
		assert.Contains(t, r.agentConfig.Data, strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/"))
	}
	assert.Equal(t, r.agentConfig.Name, volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name).ConfigMap.Name)

	// The resolver's identity and what it may do.
	assert.Equal(t, r.serviceAccount.Name, pod.ServiceAccountName)
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.True(t, *pod.AutomountServiceAccountToken, "the Kubernetes resolver needs the service account token")
	require.Len(t, r.role.Rules, 1)
	rule := r.role.Rules[0]
	assert.Equal(t, []string{"discovery.k8s.io"}, rule.APIGroups)
	assert.Equal(t, []string{"endpointslices"}, rule.Resources)
	assert.ElementsMatch(t, []string{"get", "list", "watch"}, rule.Verbs)
	assert.Empty(t, rule.ResourceNames)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: r.role.Name}, r.roleBinding.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: r.serviceAccount.Name, Namespace: ds.Namespace}}, r.roleBinding.Subjects)
	for _, ns := range []string{r.role.Namespace, r.roleBinding.Namespace, r.serviceAccount.Namespace} {
		assert.Equal(t, ds.Namespace, ns)
	}

	// The resolver watches the headless Service that governs the
	// StatefulSet, on the port the gateways listen on.
	var agentK8s struct {
		Exporters map[string]struct {
			Resolver map[string]*struct {
				Service         string  `json:"service"`
				Ports           []int32 `json:"ports"`
				ReturnHostnames bool    `json:"return_hostnames"`
			} `json:"resolver"`
		} `json:"exporters"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(r.agentConfig.Data["agent-kubernetes.yaml"]), &agentK8s))
	resolver := agentK8s.Exporters["load_balancing/gateways"].Resolver
	require.Contains(t, resolver, "static")
	assert.Nil(t, resolver["static"], "the static list is removed")
	k8s := resolver["k8s"]
	require.NotNil(t, k8s)
	assert.Equal(t, r.headless.Name+".${env:K8S_NAMESPACE}", k8s.Service)
	assert.Equal(t, "metadata.namespace", envVar(t, c, "K8S_NAMESPACE").ValueFrom.FieldRef.FieldPath)
	assert.Equal(t, r.headless.Name, r.statefulSet.Spec.ServiceName)
	assert.True(t, k8s.ReturnHostnames, "the ring is keyed on the pods' stable names")
	require.Len(t, r.headless.Spec.Ports, 1)
	assert.Equal(t, []int32{r.headless.Spec.Ports[0].Port}, k8s.Ports)

	// Mutual TLS: the agents' certificate, and the CA, from their Secret.
	agentCert := r.certificates["otelcol-auth0-agent-tls"]
	require.NotNil(t, agentCert)
	assert.Contains(t, agentCert.Spec.Usages, "client auth")
	assert.Equal(t, r.certificates["otelcol-auth0-gateway-tls"].Spec.IssuerRef, agentCert.Spec.IssuerRef, "one CA signs both tiers' certificates")
	for _, name := range []string{"OTELCOL_GATEWAY_CA_FILE", "OTELCOL_AGENT_TLS_CERT_FILE", "OTELCOL_AGENT_TLS_KEY_FILE"} {
		file := env[name]
		require.NotEmpty(t, file, name)
		vol := volume(t, pod, mountAt(t, c, filepath.Dir(file)).Name)
		require.NotNil(t, vol.Secret, name)
		assert.Equal(t, agentCert.Spec.SecretName, vol.Secret.SecretName, name)
		assert.Contains(t, vol.Secret.Items, corev1.KeyToPath{Key: map[string]string{
			"OTELCOL_GATEWAY_CA_FILE": "ca.crt", "OTELCOL_AGENT_TLS_CERT_FILE": "tls.crt", "OTELCOL_AGENT_TLS_KEY_FILE": "tls.key"}[name], Path: filepath.Base(file)}, name)
	}
	for _, e := range c.Env {
		assert.NotContains(t, []string{"SPLUNK_HEC_TOKEN", "AUTH0_CLIENT_SECRET"}, e.Name, "the agents do not need %s", e.Name)
	}

	// SIGTERM waits for a batch in flight for one attempt at most.
	attempt, err := time.ParseDuration(envDefault(t, r.agentConfig.Data["agent.yaml"], "OTELCOL_GATEWAY_ATTEMPT_TIMEOUT"))
	require.NoError(t, err)
	assert.Greater(t, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second, attempt+15*time.Second)

	// Still the base's queue on the node, probes, security.
	assert.NotNil(t, volume(t, pod, mountAt(t, c, env["OTELCOL_STORAGE_DIR"]).Name).HostPath)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, "health", c.ReadinessProbe.HTTPGet.Port.String())
}

// The gateways: a StatefulSet governed by the headless Service, a claim
// each, TLS from cert-manager, only the agents let in, one down at a time.
func TestFleetGateways(t *testing.T) {
	r := buildFleet(t)
	sts := r.statefulSet
	pod := sts.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := envOf(c)

	assert.GreaterOrEqual(t, *sts.Spec.Replicas, int32(2))
	assert.Equal(t, appsv1.ParallelPodManagement, sts.Spec.PodManagementPolicy)
	assert.True(t, selects(t, sts.Spec.Selector.MatchLabels, sts.Spec.Template.Labels))
	assert.True(t, selects(t, r.headless.Spec.Selector, sts.Spec.Template.Labels))
	assert.False(t, selects(t, r.headless.Spec.Selector, r.daemonSet.Spec.Template.Labels), "the headless Service selects gateways only")
	assert.False(t, selects(t, map[string]string{"app.kubernetes.io/component": "agent"}, sts.Spec.Template.Labels),
		"the agents' Service (base/service.yaml) must not route Auth0 to a gateway")
	assert.Equal(t, "otlp-grpc", r.headless.Spec.Ports[0].TargetPort.String())
	port := containerPort(t, c, "otlp-grpc")
	assert.Equal(t, r.headless.Spec.Ports[0].Port, port)
	assert.Equal(t, "$(K8S_POD_IP):4317", env["OTELCOL_GATEWAY_LISTEN"])
	assert.True(t, r.headless.Spec.PublishNotReadyAddresses)

	// A claim each, where the store and queue live, kept when scaled down.
	require.Len(t, sts.Spec.VolumeClaimTemplates, 1)
	claim := sts.Spec.VolumeClaimTemplates[0]
	assert.Equal(t, claim.Name, mountAt(t, c, env["OTELCOL_STORAGE_DIR"]).Name)
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, claim.Spec.AccessModes)
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	assert.GreaterOrEqual(t, size.Cmp(resource.MustParse("4Gi")), 0, "the queue alone takes 1.7 GB")
	require.NotNil(t, sts.Spec.PersistentVolumeClaimRetentionPolicy)
	assert.Equal(t, appsv1.RetainPersistentVolumeClaimRetentionPolicyType, sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled,
		"a removed gateway's claim holds what it has not delivered")

	// Mutual TLS: the certificate cert-manager issues for the pods' names,
	// and the CA that signed the agents'.
	cert := r.certificates["otelcol-auth0-gateway-tls"]
	require.NotNil(t, cert)
	for name, key := range map[string]string{"OTELCOL_GATEWAY_TLS_CERT_FILE": "tls.crt", "OTELCOL_GATEWAY_TLS_KEY_FILE": "tls.key", "OTELCOL_GATEWAY_CLIENT_CA_FILE": "ca.crt"} {
		file := env[name]
		require.NotEmpty(t, file, name)
		vol := volume(t, pod, mountAt(t, c, filepath.Dir(file)).Name)
		require.NotNil(t, vol.Secret, name)
		assert.Equal(t, cert.Spec.SecretName, vol.Secret.SecretName, name)
		assert.Contains(t, vol.Secret.Items, corev1.KeyToPath{Key: key, Path: filepath.Base(file)}, name)
	}
	assert.Contains(t, cert.Spec.DNSNames, "*."+r.headless.Name+"."+sts.Namespace, "the name the agents dial: <pod>.<service>.<namespace>")
	assert.Contains(t, cert.Spec.Usages, "server auth")
	ca := r.issuers[cert.Spec.IssuerRef.Name]
	require.NotNil(t, ca, "the gateway certificate's issuer")
	require.NotNil(t, ca.Spec.CA)
	caCert := r.certificates[ca.Spec.CA.SecretName]
	require.NotNil(t, caCert, "the CA issuer's certificate")
	assert.True(t, caCert.Spec.IsCA)
	assert.Equal(t, ca.Spec.CA.SecretName, caCert.Spec.SecretName)
	selfSigned := r.issuers[caCert.Spec.IssuerRef.Name]
	require.NotNil(t, selfSigned)
	assert.NotNil(t, selfSigned.Spec.SelfSigned)
	for _, c := range r.certificates {
		assert.Equal(t, "Issuer", c.Spec.IssuerRef.Kind)
		assert.Equal(t, "cert-manager.io", c.Spec.IssuerRef.Group)
	}

	// Only the agents reach the OTLP port.
	p := r.policy
	assert.True(t, labelSelects(t, &p.Spec.PodSelector, sts.Spec.Template.Labels))
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, p.Spec.PolicyTypes)
	otlpRules := 0
	for _, rule := range p.Spec.Ingress {
		require.NotEmpty(t, rule.From, "no ingress rule may open a port to everyone")
		for _, rp := range rule.Ports {
			if rp.Port.String() != "otlp-grpc" {
				continue
			}
			otlpRules++
			require.Len(t, rule.From, 1)
			require.NotNil(t, rule.From[0].PodSelector, "the OTLP port is for pods of this namespace only")
			assert.Nil(t, rule.From[0].NamespaceSelector)
			assert.True(t, labelSelects(t, rule.From[0].PodSelector, r.daemonSet.Spec.Template.Labels))
			assert.False(t, labelSelects(t, rule.From[0].PodSelector, r.drain.Spec.Template.Labels))
		}
	}
	assert.Equal(t, 1, otlpRules)

	// One gateway down at a time.
	assert.True(t, labelSelects(t, r.pdb.Spec.Selector, sts.Spec.Template.Labels))
	require.NotNil(t, r.pdb.Spec.MaxUnavailable)
	assert.Equal(t, 1, r.pdb.Spec.MaxUnavailable.IntValue())

	// Memory: memory_limiter under GOMEMLIMIT under the limit.
	limit := c.Resources.Limits[corev1.ResourceMemory]
	goMemLimit := resource.MustParse(strings.TrimSuffix(env["GOMEMLIMIT"], "B"))
	limiter := resource.MustParse(env["OTELCOL_MEMORY_LIMIT_MIB"] + "Mi")
	assert.Less(t, limiter.Value(), goMemLimit.Value())
	assert.Less(t, goMemLimit.Value(), limit.Value())
	assert.InDelta(t, 0.8, float64(limiter.Value())/float64(limit.Value()), 0.05)

	// SIGTERM leaves time for the update drain.
	drain, err := time.ParseDuration(env["OTELCOL_UPDATE_DRAIN_TIMEOUT"])
	require.NoError(t, err)
	assert.Greater(t, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second, drain+15*time.Second)

	// The configuration, secrets and hardening.
	assert.Equal(t, []string{"--config=/etc/otelcol-auth0/gateway.yaml"}, c.Args)
	assert.Equal(t, r.gatewayConfig.Name, volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name).ConfigMap.Name)
	for name, secret := range map[string]string{"SPLUNK_HEC_TOKEN": "otelcol-auth0-secrets", "AUTH0_CLIENT_SECRET": "otelcol-auth0-secrets"} {
		ev := envVar(t, c, name)
		require.NotNil(t, ev.ValueFrom, name)
		assert.Equal(t, secret, ev.ValueFrom.SecretKeyRef.Name, name)
	}
	assert.False(t, *pod.AutomountServiceAccountToken)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		require.NotNil(t, probe)
		assert.Equal(t, "health", probe.HTTPGet.Port.String())
	}
	assert.NotEmpty(t, pod.TopologySpreadConstraints)
	assert.Equal(t, "otelcol-auth0", sts.Namespace)
}

// The drain Deployment runs a gateway's configuration on a removed
// gateway's claim, outside the agents' ring.
func TestFleetDrain(t *testing.T) {
	r := buildFleet(t)
	d := r.drain
	assert.Equal(t, int32(0), *d.Spec.Replicas, "idle until an operator points it at a claim")
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, d.Spec.Strategy.Type, "a claim is ReadWriteOnce")
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	gw := r.statefulSet.Spec.Template.Spec.Containers[0]
	assert.Equal(t, gw.Args, c.Args)
	assert.Equal(t, r.gatewayConfig.Name, volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name).ConfigMap.Name)
	assert.False(t, selects(t, r.headless.Spec.Selector, d.Spec.Template.Labels), "a drain is not a gateway the agents route to")
	assert.True(t, strings.HasPrefix(envOf(c)["OTELCOL_GATEWAY_LISTEN"], "127.0.0.1:"))
	storage := volume(t, pod, mountAt(t, c, envOf(c)["OTELCOL_STORAGE_DIR"]).Name)
	require.NotNil(t, storage.PersistentVolumeClaim)
	assert.True(t, strings.HasPrefix(storage.PersistentVolumeClaim.ClaimName, r.statefulSet.Spec.VolumeClaimTemplates[0].Name+"-"+r.statefulSet.Name+"-"),
		"the claims a StatefulSet makes are <template>-<statefulset>-<ordinal>")
	for _, name := range []string{"OTELCOL_STORAGE_DIR", "OTELCOL_GATEWAY_TLS_CERT_FILE", "OTELCOL_GATEWAY_TLS_KEY_FILE", "OTELCOL_GATEWAY_CLIENT_CA_FILE", "OTELCOL_UPDATE_DRAIN_TIMEOUT", "OTELCOL_MEMORY_LIMIT_MIB"} {
		assert.Equal(t, envOf(gw)[name], envOf(c)[name], name)
	}
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
}

// The ConfigMaps carry the repository's agent and gateway configurations
// unchanged.
func TestFleetConfigMapsCarryTheRepositoryConfigs(t *testing.T) {
	r := buildFleet(t)
	for file, cm := range map[string]*corev1.ConfigMap{"agent.yaml": r.agentConfig, "gateway.yaml": r.gatewayConfig} {
		want, err := os.ReadFile(filepath.Join(root, "config", file))
		require.NoError(t, err)
		assert.Equal(t, string(want), cm.Data[file], "run `make manifests` to copy config/%s into deploy/kubernetes/fleet", file)
	}
}

// Both tiers' configurations pass `otelcol-auth0 validate` with the
// environment their pods give them.
func TestFleetConfigsValidate(t *testing.T) {
	r := buildFleet(t)
	secrets := map[string]string{"AUTH0_RECEIVER_SECRET": "receiver-secret", "SPLUNK_HEC_TOKEN": "hec-token", "AUTH0_CLIENT_SECRET": "client-secret"}
	settings := map[string]string{}
	for k, v := range r.settings.Data {
		settings[k] = v
	}
	settings["AUTH0_DOMAIN"], settings["AUTH0_CLIENT_ID"] = "acme.eu.auth0.com", "client-id"
	for name, tier := range map[string]struct {
		spec corev1.PodSpec
		cm   *corev1.ConfigMap
	}{
		"agent":   {r.daemonSet.Spec.Template.Spec, r.agentConfig},
		"gateway": {r.statefulSet.Spec.Template.Spec, r.gatewayConfig},
		"drain":   {r.drain.Spec.Template.Spec, r.gatewayConfig},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := tier.spec.Containers[0]
			var args []string
			for _, arg := range c.Args {
				key := strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/")
				path := filepath.Join(dir, key)
				require.NoError(t, os.WriteFile(path, []byte(tier.cm.Data[key]), 0o600))
				args = append(args, "--config="+path)
			}
			assert.Empty(t, validate(t, podEnv(settings, c.Env, secrets, dir), args...))
		})
	}
}
