// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The pull overlay adds one poller beside the DaemonSet: a single replica
// never rolled over (two pollers would deliver everything twice), its
// state on a claim, and a configuration `otelcol-auth0 validate` accepts.
func TestPullDeployment(t *testing.T) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), pullDir)
	require.NoError(t, err)
	var deployment *appsv1.Deployment
	var daemonSet *appsv1.DaemonSet
	var config, settings *corev1.ConfigMap
	var claim *corev1.PersistentVolumeClaim
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		switch obj := decodeStrict(t, doc).(type) {
		case *corev1.PersistentVolumeClaim:
			claim = obj
		case *appsv1.Deployment:
			deployment = obj
		case *appsv1.DaemonSet:
			daemonSet = obj
		case *corev1.ConfigMap:
			if strings.HasPrefix(obj.Name, "otelcol-auth0-config") {
				config = obj
			} else {
				settings = obj
			}
		}
	}
	require.NotNil(t, deployment)
	require.NotNil(t, daemonSet, "beside the DaemonSet")
	require.NotNil(t, claim)
	assert.Equal(t, daemonSet.Namespace, deployment.Namespace)
	assert.Equal(t, daemonSet.Namespace, claim.Namespace)
	assert.Equal(t, int32(1), *deployment.Spec.Replicas)
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, deployment.Spec.Strategy.Type)

	pod := deployment.Spec.Template.Spec
	c := pod.Containers[0]
	storageDir := envOf(c)["OTELCOL_STORAGE_DIR"]
	vol := volume(t, pod, mountAt(t, c, storageDir).Name)
	require.NotNil(t, vol.PersistentVolumeClaim)
	assert.Equal(t, claim.Name, vol.PersistentVolumeClaim.ClaimName)
	for k, v := range deployment.Spec.Selector.MatchLabels {
		assert.Equal(t, v, deployment.Spec.Template.Labels[k])
	}
	for k, v := range daemonSet.Spec.Selector.MatchLabels {
		if k == "app.kubernetes.io/component" {
			assert.NotEqual(t, v, deployment.Spec.Template.Labels[k], "the DaemonSet's Service must not route Auth0 to the poller")
		}
	}
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)

	want, err := os.ReadFile(filepath.Join(root, "config", "pull.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), config.Data["pull.yaml"], "run `make manifests` to copy config/pull.yaml")
	assert.Contains(t, config.Data, "config.yaml", "the base configuration is merged in")
	assert.Equal(t, config.Name, volume(t, pod, mountAt(t, c, "/etc/otelcol-auth0").Name).ConfigMap.Name)

	dir := t.TempDir()
	var args []string
	for _, arg := range c.Args {
		key := strings.TrimPrefix(arg, "--config=/etc/otelcol-auth0/")
		path := filepath.Join(dir, key)
		require.NoError(t, os.WriteFile(path, []byte(config.Data[key]), 0o600))
		args = append(args, "--config="+path)
	}
	values := map[string]string{}
	for k, v := range settings.Data {
		values[k] = v
	}
	values["AUTH0_DOMAIN"], values["AUTH0_CLIENT_ID"] = "acme.eu.auth0.com", "client-id"
	secrets := map[string]string{"SPLUNK_HEC_TOKEN": "hec-token", "AUTH0_CLIENT_SECRET": "client-secret"}
	assert.Empty(t, validate(t, podEnv(values, c.Env, secrets, dir), args...))
}
