// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The time a stopping collector needs after its drain: the pipeline's
// shutdown once the queue is drained or the drain timed out.
const afterDrain = 15 * time.Second

// The drain timeout the collector uses when OTELCOL_DRAIN_TIMEOUT is unset.
const defaultDrain = 45 * time.Second

// assertGraceCoversDrain: Kubernetes must not SIGKILL a collector still
// draining its queue to Splunk.
func assertGraceCoversDrain(t *testing.T, graceSeconds int64, drainSetting string) {
	t.Helper()
	drain := defaultDrain
	if drainSetting != "" {
		var err error
		drain, err = time.ParseDuration(drainSetting)
		require.NoError(t, err, "OTELCOL_DRAIN_TIMEOUT")
	}
	assert.GreaterOrEqual(t, time.Duration(graceSeconds)*time.Second, drain+afterDrain,
		"terminationGracePeriodSeconds must cover the drain (%s) and the shutdown after it", drain)
}

// redisConfigEnv is every environment variable config/redis.yaml reads.
func redisConfigEnv(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "config", "redis.yaml"))
	require.NoError(t, err)
	var names []string
	for _, m := range regexp.MustCompile(`\$\{env:([A-Z0-9_]+)`).FindAllStringSubmatch(string(raw), -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	require.Contains(t, names, "REDIS_ENDPOINT")
	require.Contains(t, names, "REDIS_PASSWORD")
	return names
}

// redisRendered is what `kubectl apply -k` of the Redis layout (or its
// example) would apply.
type redisRendered struct {
	settings    *corev1.ConfigMap
	config      *corev1.ConfigMap
	daemonSet   *appsv1.DaemonSet
	services    []*corev1.Service
	statefulSet *appsv1.StatefulSet
	policy      *networkingv1.NetworkPolicy
}

func buildRedis(t *testing.T, dir string) redisRendered {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	var r redisRendered
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		switch obj := decodeStrict(t, doc).(type) {
		case *corev1.ConfigMap:
			if strings.HasPrefix(obj.Name, "otelcol-auth0-config") {
				r.config = obj
			} else {
				r.settings = obj
			}
		case *appsv1.DaemonSet:
			r.daemonSet = obj
		case *appsv1.StatefulSet:
			r.statefulSet = obj
		case *corev1.Service:
			r.services = append(r.services, obj)
		case *networkingv1.NetworkPolicy:
			r.policy = obj
		case *corev1.Namespace, *networkingv1.Ingress:
		default:
			t.Fatalf("unexpected object %T in %s", obj, dir)
		}
	}
	require.NotNil(t, r.settings)
	require.NotNil(t, r.config)
	require.NotNil(t, r.daemonSet)
	return r
}

func secretTemplateKeys(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(kubernetesDir, "secret.yaml"))
	require.NoError(t, err)
	return keys(decodeStrict(t, raw).(*corev1.Secret).StringData)
}

// The Redis layout: the base DaemonSet reading config/redis.yaml on top,
// with everything that file reads provided.
func TestRedisLayout(t *testing.T) {
	r := buildRedis(t, redisDir)
	pod := r.daemonSet.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	// The ConfigMap carries both repository files unchanged, and the
	// container passes redis.yaml last, over the base configuration.
	want, err := os.ReadFile(filepath.Join(root, "config", "redis.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), r.config.Data["redis.yaml"], "run `make manifests` to copy config/redis.yaml")
	base, err := os.ReadFile(filepath.Join(root, "otelcol-config.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(base), r.config.Data["config.yaml"])
	assert.Equal(t, []string{"--config=/etc/otelcol-auth0/config.yaml", "--config=/etc/otelcol-auth0/kubernetes.yaml", "--config=/etc/otelcol-auth0/redis.yaml"}, c.Args)
	for _, arg := range c.Args {
		assert.Contains(t, r.config.Data, strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/"))
	}
	assert.Equal(t, r.config.Name, volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name).ConfigMap.Name)

	// Every variable config/redis.yaml reads comes from the settings or
	// the container's env.
	provided := map[string]corev1.EnvVar{}
	for k, v := range r.settings.Data {
		provided[k] = corev1.EnvVar{Name: k, Value: v}
	}
	for _, e := range c.Env {
		provided[e.Name] = e
	}
	for _, name := range redisConfigEnv(t) {
		_, ok := provided[name]
		assert.True(t, ok, "%s, read by config/redis.yaml, is set neither in settings nor in the DaemonSet", name)
	}
	for _, addr := range strings.Split(r.settings.Data["REDIS_ENDPOINT"], ",") {
		_, port, err := net.SplitHostPort(strings.TrimSpace(addr))
		assert.NoError(t, err, "REDIS_ENDPOINT is host:port")
		assert.NotEmpty(t, port)
	}
	assert.Equal(t, "false", r.settings.Data["REDIS_TLS_INSECURE"], "TLS by default: managed services require it")

	// Credentials from the Secret, never in the settings; the password is
	// required, so a pod without it fails to start instead of going
	// unauthenticated.
	secretKeys := secretTemplateKeys(t)
	for _, name := range []string{"REDIS_PASSWORD", "REDIS_USERNAME"} {
		assert.NotContains(t, r.settings.Data, name)
		ev := envVar(t, c, name)
		require.NotNil(t, ev.ValueFrom, name)
		require.NotNil(t, ev.ValueFrom.SecretKeyRef, name)
		assert.Equal(t, "otelcol-auth0-secrets", ev.ValueFrom.SecretKeyRef.Name, name)
		assert.Contains(t, secretKeys, ev.ValueFrom.SecretKeyRef.Key, "the Secret template has %s", name)
	}
	password := envVar(t, c, "REDIS_PASSWORD").ValueFrom.SecretKeyRef
	assert.True(t, password.Optional == nil || !*password.Optional, "REDIS_PASSWORD is required")
	// Every key the pod takes from the Secret is in the template.
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			assert.Contains(t, secretKeys, e.ValueFrom.SecretKeyRef.Key)
		}
	}

	// The CA bundle: an optional Secret volume, where the settings say.
	mount := mountAt(t, c, "/etc/otelcol-auth0-redis-tls")
	assert.True(t, mount.ReadOnly)
	vol := volume(t, pod, mount.Name)
	require.NotNil(t, vol.Secret)
	assert.Equal(t, "otelcol-auth0-redis-tls", vol.Secret.SecretName)
	require.NotNil(t, vol.Secret.Optional)
	assert.True(t, *vol.Secret.Optional, "a pod without a private CA must start")
	patch, err := os.ReadFile(filepath.Join(redisDir, "settings-patch.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(patch), mount.MountPath+"/ca.crt", "settings-patch.yaml names the CA file under the mount")

	// The base's storage, security and termination are unchanged.
	storageDir := envOf(c)["OTELCOL_STORAGE_DIR"]
	assert.NotNil(t, volume(t, pod, mountAt(t, c, storageDir).Name).HostPath)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assertGraceCoversDrain(t, *pod.TerminationGracePeriodSeconds, r.settings.Data["OTELCOL_DRAIN_TIMEOUT"])
}

// The example Redis: one replica with its append-only file on a claim,
// refusing writes rather than evicting claims, reached through its Service
// by the collectors alone, with the collectors' password.
func TestRedisExample(t *testing.T) {
	r := buildRedis(t, redisExampleDir)
	ss := r.statefulSet
	require.NotNil(t, ss, "the example's StatefulSet")
	require.NotNil(t, r.policy)
	assert.Equal(t, int32(1), *ss.Spec.Replicas)
	assert.Equal(t, r.daemonSet.Namespace, ss.Namespace)
	pod := ss.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	args := map[string]string{}
	for i := 0; i+1 < len(c.Args); i += 2 {
		require.True(t, strings.HasPrefix(c.Args[i], "--"), "redis-server options come in --name value pairs: %v", c.Args)
		args[c.Args[i]] = c.Args[i+1]
	}
	assert.Equal(t, "yes", args["--appendonly"], "claims survive a restart")
	assert.Contains(t, []string{"everysec", "always"}, args["--appendfsync"])
	assert.Contains(t, []string{"noeviction", "volatile-lru"}, args["--maxmemory-policy"], "a full Redis never evicts a claim (claims do not expire)")
	assert.Equal(t, "$(REDIS_PASSWORD)", args["--requirepass"])
	maxmemory := resource.MustParse(strings.ToUpper(strings.TrimSuffix(args["--maxmemory"], "b")) + "i")
	limit := c.Resources.Limits[corev1.ResourceMemory]
	assert.Less(t, maxmemory.Value(), limit.Value(), "Redis refuses writes before it is OOM-killed")

	// The same Secret key on both sides.
	ev := envVar(t, c, "REDIS_PASSWORD")
	require.NotNil(t, ev.ValueFrom)
	collector := envVar(t, r.daemonSet.Spec.Template.Spec.Containers[0], "REDIS_PASSWORD").ValueFrom.SecretKeyRef
	assert.Equal(t, collector.Name, ev.ValueFrom.SecretKeyRef.Name)
	assert.Equal(t, collector.Key, ev.ValueFrom.SecretKeyRef.Key)

	// The data directory on the claim template.
	mount := mountAt(t, c, args["--dir"])
	require.Len(t, ss.Spec.VolumeClaimTemplates, 1)
	assert.Equal(t, ss.Spec.VolumeClaimTemplates[0].Name, mount.Name)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)

	// The settings point at the example's Service, in plain text.
	host, port, err := net.SplitHostPort(r.settings.Data["REDIS_ENDPOINT"])
	require.NoError(t, err)
	var svc *corev1.Service
	for _, s := range r.services {
		if s.Name == host {
			svc = s
		}
	}
	require.NotNil(t, svc, "REDIS_ENDPOINT names the example's Service")
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, port, strconv.Itoa(int(svc.Spec.Ports[0].Port)))
	assert.Equal(t, containerPort(t, c, svc.Spec.Ports[0].TargetPort.String()), svc.Spec.Ports[0].Port)
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ss.Spec.Template.Labels)))
	assert.False(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(r.daemonSet.Spec.Template.Labels)))
	assert.Equal(t, "true", r.settings.Data["REDIS_TLS_INSECURE"])

	// Only the collectors reach it.
	assert.True(t, labels.SelectorFromSet(r.policy.Spec.PodSelector.MatchLabels).Matches(labels.Set(ss.Spec.Template.Labels)))
	require.Len(t, r.policy.Spec.Ingress, 1)
	from := r.policy.Spec.Ingress[0].From
	require.Len(t, from, 1)
	assert.True(t, labels.SelectorFromSet(from[0].PodSelector.MatchLabels).Matches(labels.Set(r.daemonSet.Spec.Template.Labels)))
	assert.False(t, labels.SelectorFromSet(from[0].PodSelector.MatchLabels).Matches(labels.Set(ss.Spec.Template.Labels)))
}

// The configuration of both kustomizations passes `otelcol-auth0
// validate` with the environment their DaemonSet gives it.
func TestRedisConfigValidates(t *testing.T) {
	for _, dir := range []string{redisDir, redisExampleDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := buildRedis(t, dir)
			tmp := t.TempDir()
			c := r.daemonSet.Spec.Template.Spec.Containers[0]
			var args []string
			for _, arg := range c.Args {
				key := strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/")
				path := filepath.Join(tmp, key)
				require.NoError(t, os.WriteFile(path, []byte(r.config.Data[key]), 0o600))
				args = append(args, "--config="+path)
			}
			secrets := map[string]string{"AUTH0_RECEIVER_SECRET": "receiver-secret", "SPLUNK_HEC_TOKEN": "hec-token", "REDIS_PASSWORD": "redis-password"}
			assert.Empty(t, validate(t, podEnv(r.settings.Data, c.Env, secrets, tmp), args...))

			// An empty REDIS_TLS_INSECURE takes the default (false), as the
			// docs say, rather than failing to parse as a bool.
			settings := map[string]string{}
			for k, v := range r.settings.Data {
				settings[k] = v
			}
			settings["REDIS_TLS_INSECURE"] = ""
			assert.Empty(t, validate(t, podEnv(settings, c.Env, secrets, tmp), args...))
		})
	}
}

// redisHelmValues is the part of the chart's values the Redis tests check.
type redisHelmValues struct {
	Config            map[string]any       `json:"config"`
	ExtraEnvs         []corev1.EnvVar      `json:"extraEnvs"`
	ExtraVolumes      []corev1.Volume      `json:"extraVolumes"`
	ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts"`
	TerminationGrace  int64                `json:"terminationGracePeriodSeconds"`
}

func readHelm(t *testing.T, file string) redisHelmValues {
	t.Helper()
	var v redisHelmValues
	readYAML(t, filepath.Join(root, "deploy", "helm", file), &v)
	return v
}

// deploy/helm/redis-values.yaml over values.yaml: config/redis.yaml added
// to the configuration, and values.yaml's lists repeated before the Redis
// entries (Helm replaces lists from a later values file).
func TestRedisHelmValues(t *testing.T) {
	base, redis := readHelm(t, "values.yaml"), readHelm(t, "redis-values.yaml")

	var want map[string]any
	readYAML(t, filepath.Join(root, "config", "redis.yaml"), &want)
	assert.Equal(t, want, redis.Config, "redis-values.yaml's config must be config/redis.yaml")

	require.Greater(t, len(redis.ExtraEnvs), len(base.ExtraEnvs))
	assert.Equal(t, base.ExtraEnvs, redis.ExtraEnvs[:len(base.ExtraEnvs)], "extraEnvs repeats values.yaml's, in order")
	require.Greater(t, len(redis.ExtraVolumes), len(base.ExtraVolumes))
	assert.Equal(t, base.ExtraVolumes, redis.ExtraVolumes[:len(base.ExtraVolumes)], "extraVolumes repeats values.yaml's")
	require.Greater(t, len(redis.ExtraVolumeMounts), len(base.ExtraVolumeMounts))
	assert.Equal(t, base.ExtraVolumeMounts, redis.ExtraVolumeMounts[:len(base.ExtraVolumeMounts)], "extraVolumeMounts repeats values.yaml's")

	env := map[string]corev1.EnvVar{}
	for _, e := range redis.ExtraEnvs {
		_, twice := env[e.Name]
		assert.False(t, twice, "%s set twice", e.Name)
		env[e.Name] = e
	}
	for _, name := range redisConfigEnv(t) {
		_, ok := env[name]
		assert.True(t, ok, "%s, read by config/redis.yaml, is not in extraEnvs", name)
	}
	secretKeys := secretTemplateKeys(t)
	for _, name := range []string{"REDIS_PASSWORD", "REDIS_USERNAME"} {
		ref := env[name].ValueFrom
		require.NotNil(t, ref, name)
		require.NotNil(t, ref.SecretKeyRef, name)
		assert.Equal(t, "otelcol-auth0-secrets", ref.SecretKeyRef.Name)
		assert.Contains(t, secretKeys, ref.SecretKeyRef.Key)
	}
	assert.True(t, env["REDIS_PASSWORD"].ValueFrom.SecretKeyRef.Optional == nil || !*env["REDIS_PASSWORD"].ValueFrom.SecretKeyRef.Optional)
	assert.Equal(t, "false", env["REDIS_TLS_INSECURE"].Value)

	// The CA bundle as in the manifests.
	var tls *corev1.Volume
	for i, v := range redis.ExtraVolumes {
		if v.Secret != nil && v.Secret.SecretName == "otelcol-auth0-redis-tls" {
			tls = &redis.ExtraVolumes[i]
		}
	}
	require.NotNil(t, tls)
	assert.True(t, *tls.Secret.Optional)
	var mounted bool
	for _, m := range redis.ExtraVolumeMounts {
		mounted = mounted || (m.Name == tls.Name && m.MountPath == "/etc/otelcol-auth0-redis-tls")
	}
	assert.True(t, mounted)

	// Termination: values.yaml's grace covers its drain; the Redis file
	// keeps both.
	assert.Zero(t, redis.TerminationGrace, "redis-values.yaml keeps values.yaml's grace period")
	assertGraceCoversDrain(t, base.TerminationGrace, env["OTELCOL_DRAIN_TIMEOUT"].Value)
}

// The configuration the chart renders from both values files passes
// `otelcol-auth0 validate`.
func TestRedisHelmConfigValidates(t *testing.T) {
	base, redis := readHelm(t, "values.yaml"), readHelm(t, "redis-values.yaml")
	raw, err := yaml.Marshal(dropNulls(merge(base.Config, redis.Config)))
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	env := []string{"PATH=" + os.Getenv("PATH"), "OTELCOL_STORAGE_DIR=" + dir}
	stand := map[string]string{
		"AUTH0_RECEIVER_SECRET": "s", "SPLUNK_HEC_TOKEN": "t", "REDIS_PASSWORD": "p",
		"K8S_NODE_NAME": "n", "K8S_POD_NAME": "p", "K8S_NAMESPACE": "ns",
		"AUTH0_RECEIVER_ENDPOINT": "10.0.0.7:8080", "OTELCOL_HEALTH_ENDPOINT": "10.0.0.7:13133", "OTELCOL_METRICS_ADDRESS": "10.0.0.7",
	}
	for _, e := range redis.ExtraEnvs {
		v, ok := stand[e.Name]
		if !ok {
			if e.ValueFrom != nil {
				continue // an optional Secret key left out
			}
			v = e.Value
		}
		if e.Name != "OTELCOL_STORAGE_DIR" {
			env = append(env, e.Name+"="+v)
		}
	}
	assert.Empty(t, validate(t, env, "--config="+path))
}
