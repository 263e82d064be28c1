// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package deploy tests the deployment files: the Kubernetes manifests (built
// with kustomize and decoded strictly into the real API types), the
// collector configuration they carry (validated by the built binary), the
// Helm values and the Dockerfile. It is its own Go module so that the
// Kubernetes libraries stay out of the collector's build.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	root            = "../.."
	kubernetesDir   = root + "/deploy/kubernetes/base"
	pullDir         = root + "/deploy/kubernetes/pull"
	redisDir        = root + "/deploy/kubernetes/redis"
	redisExampleDir = root + "/deploy/kubernetes/redis-example"
)

// decodeStrict decodes one manifest into its API type, refusing unknown
// fields: a misspelled key is an error, not a silently ignored setting.
func decodeStrict(t *testing.T, doc []byte) any {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	require.NoError(t, yaml.Unmarshal(doc, &meta))
	var obj any
	switch meta.APIVersion + "/" + meta.Kind {
	case "v1/Namespace":
		obj = &corev1.Namespace{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "apps/v1/DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "v1/PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	case "networking.k8s.io/v1/Ingress":
		obj = &networkingv1.Ingress{}
	case "networking.k8s.io/v1/NetworkPolicy":
		obj = &networkingv1.NetworkPolicy{}
	case "apps/v1/StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "v1/ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "policy/v1/PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "rbac.authorization.k8s.io/v1/Role":
		obj = &rbacv1.Role{}
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		obj = &rbacv1.RoleBinding{}
	default:
		t.Fatalf("no decoder for %s %s", meta.APIVersion, meta.Kind)
	}
	require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s %s", meta.Kind, doc)
	return obj
}

// rendered is what `kubectl apply -k deploy/kubernetes/base` would apply.
type rendered struct {
	namespace *corev1.Namespace
	settings  *corev1.ConfigMap
	config    *corev1.ConfigMap
	daemonSet *appsv1.DaemonSet
	service   *corev1.Service
	ingress   *networkingv1.Ingress
}

func build(t *testing.T) rendered {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), kubernetesDir)
	require.NoError(t, err)
	var r rendered
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		switch obj := decodeStrict(t, doc).(type) {
		case *corev1.Namespace:
			r.namespace = obj
		case *corev1.ConfigMap:
			if strings.HasPrefix(obj.Name, "otelcol-auth0-config") {
				r.config = obj
			} else {
				r.settings = obj
			}
		case *appsv1.DaemonSet:
			r.daemonSet = obj
		case *corev1.Service:
			r.service = obj
		case *networkingv1.Ingress:
			r.ingress = obj
		default:
			t.Fatalf("unexpected object %T in the kustomization", obj)
		}
	}
	for name, present := range map[string]bool{"Namespace": r.namespace != nil, "settings": r.settings != nil, "config": r.config != nil, "DaemonSet": r.daemonSet != nil, "Service": r.service != nil, "Ingress": r.ingress != nil} {
		require.True(t, present, "%s missing from the kustomization", name)
	}
	return r
}

// Every manifest file decodes strictly, including those not in the
// kustomization (the Secret template, the pull-mode Deployment).
func TestEveryManifestDecodesStrictly(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	require.NoError(t, err)
	for _, dir := range []string{pullDir, redisDir, redisExampleDir} {
		more, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		require.NoError(t, err)
		files = append(files, more...)
	}
	decoded := 0
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" || strings.HasPrefix(base, "otelcol-") || base == "pull.yaml" || base == "redis.yaml" {
			continue // kustomize's own file; collector configurations
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, doc := range bytes.Split(raw, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			decodeStrict(t, doc)
			decoded++
		}
	}
	assert.GreaterOrEqual(t, decoded, 8)
}

func TestSecretTemplateHoldsNoValues(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(kubernetesDir, "secret.yaml"))
	require.NoError(t, err)
	secret := decodeStrict(t, raw).(*corev1.Secret)
	require.ElementsMatch(t, []string{"AUTH0_RECEIVER_SECRET", "AUTH0_RECEIVER_PREVIOUS_SECRET", "SPLUNK_HEC_TOKEN", "AUTH0_CLIENT_SECRET", "REDIS_PASSWORD", "REDIS_USERNAME"}, keys(secret.StringData))
	for k, v := range secret.StringData {
		assert.Empty(t, v, "%s must be a placeholder in the template", k)
	}
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	raw, err = os.ReadFile(filepath.Join(kubernetesDir, "kustomization.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &kustomization))
	assert.NotContains(t, kustomization.Resources, "secret.yaml", "apply -k must never overwrite the real Secret")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDaemonSet(t *testing.T) {
	r := build(t)
	ds := r.daemonSet
	pod := ds.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := envOf(c)

	// Probes on the health_check extension's port.
	port := containerPort(t, c, "health")
	assert.Equal(t, "$(K8S_POD_IP):"+strconv.Itoa(int(port)), env["OTELCOL_HEALTH_ENDPOINT"])
	for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		require.NotNil(t, probe)
		assert.Equal(t, "health", probe.HTTPGet.Port.String())
	}
	assert.Equal(t, "$(K8S_POD_IP):"+strconv.Itoa(int(containerPort(t, c, "auth0"))), env["AUTH0_RECEIVER_ENDPOINT"])

	// Memory: memory_limiter's limit under GOMEMLIMIT under the container limit.
	limit := c.Resources.Limits[corev1.ResourceMemory]
	limiterMiB, err := strconv.Atoi(r.settings.Data["OTELCOL_MEMORY_LIMIT_MIB"])
	require.NoError(t, err)
	goMemLimit := resource.MustParse(strings.TrimSuffix(env["GOMEMLIMIT"], "B"))
	assert.Less(t, int64(limiterMiB)<<20, goMemLimit.Value())
	assert.Less(t, goMemLimit.Value(), limit.Value())
	assert.InDelta(t, 0.8, float64(int64(limiterMiB)<<20)/float64(limit.Value()), 0.05, "memory_limiter at about 80%% of the limit")
	assert.False(t, c.Resources.Requests.Cpu().IsZero())

	// Non-root, read-only, no capabilities.
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)
	assert.NotZero(t, *pod.SecurityContext.RunAsUser)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	assert.False(t, *pod.AutomountServiceAccountToken)

	// The queue's volume outlives the pod: a hostPath mounted where the
	// storage directory points.
	storageDir := env["OTELCOL_STORAGE_DIR"]
	mount := mountAt(t, c, storageDir)
	vol := volume(t, pod, mount.Name)
	require.NotNil(t, vol.HostPath, "the file_storage queue needs a volume that survives the pod")
	assert.Equal(t, storageDir, vol.HostPath.Path)

	// Node and pod names from the downward API.
	for name, field := range map[string]string{"K8S_NODE_NAME": "spec.nodeName", "K8S_POD_NAME": "metadata.name", "K8S_POD_IP": "status.podIP", "K8S_NAMESPACE": "metadata.namespace"} {
		ev := envVar(t, c, name)
		require.NotNil(t, ev.ValueFrom, name)
		assert.Equal(t, field, ev.ValueFrom.FieldRef.FieldPath, name)
	}
	// Secrets come from the Secret, never inline.
	for _, name := range []string{"AUTH0_RECEIVER_SECRET", "AUTH0_RECEIVER_PREVIOUS_SECRET", "SPLUNK_HEC_TOKEN", "AUTH0_CLIENT_SECRET"} {
		ev := envVar(t, c, name)
		require.NotNil(t, ev.ValueFrom, name)
		assert.Equal(t, "otelcol-auth0-secrets", ev.ValueFrom.SecretKeyRef.Name, name)
	}

	// Graceful termination longer than the drain at shutdown.
	assertGraceCoversDrain(t, *pod.TerminationGracePeriodSeconds, r.settings.Data["OTELCOL_DRAIN_TIMEOUT"])

	// The configuration: the generated ConfigMap, both files passed.
	cfgVol := volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name)
	assert.Equal(t, r.config.Name, cfgVol.ConfigMap.Name, "kustomize points the volume at the hashed name")
	for _, arg := range c.Args {
		file := strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/")
		assert.Contains(t, r.config.Data, file, "%s names a key of the ConfigMap", arg)
	}
	assert.Len(t, c.Args, 2)

	// The Service and Ingress reach the pods.
	for k, v := range r.service.Spec.Selector {
		assert.Equal(t, v, ds.Spec.Template.Labels[k])
	}
	assert.Equal(t, "auth0", r.service.Spec.Ports[0].TargetPort.String())
	require.NotEmpty(t, r.ingress.Spec.TLS, "Auth0 needs HTTPS")
	for _, path := range r.ingress.Spec.Rules[0].HTTP.Paths {
		assert.Equal(t, r.service.Name, path.Backend.Service.Name)
		assert.Contains(t, []string{"/auth0/logs", "/auth0/actions"}, path.Path)
	}
	assert.Equal(t, "otelcol-auth0", r.namespace.Name)
	assert.Equal(t, "otelcol-auth0", ds.Namespace)
}

func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

func envVar(t *testing.T, c corev1.Container, name string) corev1.EnvVar {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no env %s", name)
	return corev1.EnvVar{}
}

func containerPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("no port %s", name)
	return 0
}

func mountAt(t *testing.T, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("nothing mounted at %s", path)
	return corev1.VolumeMount{}
}

func volume(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

// The ConfigMap carries the repository's otelcol-config.yaml unchanged.
func TestConfigMapCarriesTheRepositoryConfig(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(root, "otelcol-config.yaml"))
	require.NoError(t, err)
	r := build(t)
	assert.Equal(t, string(want), r.config.Data["config.yaml"], "run `make manifests` to copy otelcol-config.yaml into deploy/kubernetes/base")
}

// The configuration inside the ConfigMap passes `otelcol-auth0 validate`
// with the environment the DaemonSet gives it: as shipped (no Management
// API application), and with one configured.
func TestConfigMapValidates(t *testing.T) {
	r := build(t)
	dir := t.TempDir()
	var args []string
	c := r.daemonSet.Spec.Template.Spec.Containers[0]
	for _, arg := range c.Args {
		key := strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/")
		path := filepath.Join(dir, key)
		require.NoError(t, os.WriteFile(path, []byte(r.config.Data[key]), 0o600))
		args = append(args, "--config="+path)
	}
	secrets := map[string]string{"AUTH0_RECEIVER_SECRET": "receiver-secret", "SPLUNK_HEC_TOKEN": "hec-token", "AUTH0_CLIENT_SECRET": ""}
	assert.Empty(t, validate(t, podEnv(r.settings.Data, c.Env, secrets, dir), args...))

	withAPI := map[string]string{}
	for k, v := range r.settings.Data {
		withAPI[k] = v
	}
	withAPI["AUTH0_DOMAIN"], withAPI["AUTH0_CLIENT_ID"] = "acme.eu.auth0.com", "client-id"
	secrets["AUTH0_CLIENT_SECRET"] = "client-secret"
	assert.Empty(t, validate(t, podEnv(withAPI, c.Env, secrets, dir), args...))
}

// podEnv is the container's environment as the kubelet would build it,
// with stand-ins for the downward API and these secret values.
func podEnv(settings map[string]string, vars []corev1.EnvVar, secrets map[string]string, storage string) []string {
	values := map[string]string{}
	for k, v := range settings {
		values[k] = v
	}
	stand := map[string]string{"spec.nodeName": "node-1", "metadata.name": "otelcol-auth0-x1", "metadata.namespace": "otelcol-auth0", "status.podIP": "10.0.0.7"}
	ref := regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`)
	for _, e := range vars {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			values[e.Name] = stand[e.ValueFrom.FieldRef.FieldPath]
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			values[e.Name] = secrets[e.ValueFrom.SecretKeyRef.Key]
		default:
			values[e.Name] = ref.ReplaceAllStringFunc(e.Value, func(m string) string { return values[m[2:len(m)-1]] })
		}
	}
	values["OTELCOL_STORAGE_DIR"] = storage
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range values {
		env = append(env, k+"="+v)
	}
	return env
}

func validate(t *testing.T, env []string, args ...string) string {
	t.Helper()
	bin := os.Getenv("OTELCOL_AUTH0_BINARY")
	require.NotEmpty(t, bin, "OTELCOL_AUTH0_BINARY must name the built binary: run `make deploy-test`")
	cmd := exec.Command(bin, append([]string{"validate"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "otelcol-auth0 validate: %s", out)
	return strings.TrimSpace(string(out))
}
