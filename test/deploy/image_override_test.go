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

const shippedImage = "ghcr.io/otelcol-auth0/otelcol-auth0"

// docs/deploying.md's image step: an overlay of one's own whose `images`
// entry names the shipped image moves every collector container, the
// pull-mode poller's too, to one's registry, and nothing else.
func TestOverlayMovesTheImage(t *testing.T) {
	for _, layout := range []string{"base", "redis", "redis-example", "pull"} {
		t.Run(layout, func(t *testing.T) {
			target, err := filepath.Abs(filepath.Join(root, "deploy", "kubernetes", layout))
			require.NoError(t, err)
			overlay := t.TempDir()
			rel, err := filepath.Rel(overlay, target)
			require.NoError(t, err)
			kustomization := "resources:\n  - " + rel + "\n" +
				"images:\n  - name: " + shippedImage + "\n    newName: registry.example.com/platform/otelcol-auth0\n    newTag: 0.1.0-rc1\n"
			require.NoError(t, os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o600))

			resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), overlay)
			require.NoError(t, err)
			collectors := 0
			for _, res := range resMap.Resources() {
				doc, err := res.AsYAML()
				require.NoError(t, err)
				var pod *corev1.PodSpec
				switch obj := decodeStrict(t, doc).(type) {
				case *appsv1.DaemonSet:
					pod = &obj.Spec.Template.Spec
				case *appsv1.Deployment:
					pod = &obj.Spec.Template.Spec
				case *appsv1.StatefulSet:
					pod = &obj.Spec.Template.Spec
				default:
					continue
				}
				for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
					assert.False(t, strings.HasPrefix(c.Image, shippedImage), "%s still pulls %s", c.Name, c.Image)
					if strings.Contains(c.Image, "otelcol-auth0") {
						assert.Equal(t, "registry.example.com/platform/otelcol-auth0:0.1.0-rc1", c.Image, c.Name)
						collectors++
					}
				}
			}
			want := 1
			if layout == "pull" {
				want = 2
			}
			assert.Equal(t, want, collectors, "collector containers moved to the new registry")
		})
	}
}
