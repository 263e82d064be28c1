// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// dockerfile is what the test reads from the Dockerfile: no Docker engine
// runs here, so the test checks that what it builds, copies and runs agree
// with the Makefile, builder-config.yaml and the Kubernetes manifests.
type dockerfile struct {
	runs       []string
	copies     [][2]string // from build stage: source, destination
	entrypoint string
	cmd        string
	user       string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	var d dockerfile
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		instr, rest, _ := strings.Cut(line, " ")
		switch instr {
		case "RUN":
			d.runs = append(d.runs, rest)
		case "COPY":
			if from, ok := strings.CutPrefix(rest, "--from=build "); ok {
				parts := strings.Fields(from)
				d.copies = append(d.copies, [2]string{parts[0], parts[1]})
			} else {
				parts := strings.Fields(rest)
				d.copies = append(d.copies, [2]string{parts[0], parts[len(parts)-1]})
			}
		case "ENTRYPOINT":
			d.entrypoint = strings.Trim(rest, `[]"`)
		case "CMD":
			d.cmd = strings.Trim(rest, `[]"`)
		case "USER":
			d.user = rest
		}
	}
	require.NoError(t, s.Err())
	return d
}

func TestDockerfileMatchesTheBuild(t *testing.T) {
	d := readDockerfile(t)

	// The build stage runs exactly what `make build` runs.
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	assert.Contains(t, d.runs, "scripts/build.sh")
	assert.Contains(t, string(makefile), "GO=$(GO) scripts/build.sh")

	// It copies the binary from where ocb writes it, which is where the
	// Makefile expects it.
	var builder struct {
		Dist struct {
			Name       string `json:"name"`
			OutputPath string `json:"output_path"`
		} `json:"dist"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "builder-config.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &builder))
	built := filepath.Join(builder.Dist.OutputPath, builder.Dist.Name)
	assert.Regexp(t, `(?m)^BINARY\s*:=\s*`+regexp.QuoteMeta(built)+`$`, string(makefile))
	require.NotEmpty(t, d.copies)
	assert.Equal(t, "/src/"+built, d.copies[len(d.copies)-2][0], "the runtime stage copies ocb's output")
	binary := d.copies[len(d.copies)-2][1]
	assert.Equal(t, binary, d.entrypoint, "and runs it")
	assert.Equal(t, "/"+builder.Dist.Name, binary, "at the root, named after the distribution (the Helm chart runs /<command.name>)")

	// The default configuration is the repository's, at the conventional
	// path, which Kubernetes mounts over.
	cfg := d.copies[len(d.copies)-1]
	assert.Equal(t, "otelcol-config.yaml", cfg[0])
	assert.Equal(t, "--config="+cfg[1], d.cmd)
	assert.Equal(t, "/etc/"+builder.Dist.Name+"/config.yaml", cfg[1])

	r := build(t)
	c := r.daemonSet.Spec.Template.Spec.Containers[0]
	assert.Equal(t, "/etc/"+builder.Dist.Name, mountAt(t, c, "/etc/"+builder.Dist.Name).MountPath)
	assert.Equal(t, "ghcr.io/otelcol-auth0/"+builder.Dist.Name, strings.Split(c.Image, ":")[0])
	uid := strings.Split(d.user, ":")[0]
	assert.Equal(t, uid, strconv.FormatInt(*r.daemonSet.Spec.Template.Spec.SecurityContext.RunAsUser, 10), "the image's user is the pod's")
}
