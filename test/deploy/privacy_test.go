// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// config/privacy.yaml refuses to start without PII_HASH_SALT, naming it,
// instead of hashing names and e-mail addresses without a salt.
func TestPrivacyConfigNeedsTheSalt(t *testing.T) {
	bin := os.Getenv("OTELCOL_AUTH0_BINARY")
	require.NotEmpty(t, bin, "OTELCOL_AUTH0_BINARY must name the built binary: run `make deploy-test`")
	storage := t.TempDir()
	run := func(salt *string) (string, error) {
		cmd := exec.Command(bin, "validate",
			"--config="+filepath.Join(root, "otelcol-config.yaml"),
			"--config="+filepath.Join(root, "config", "privacy.yaml"))
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"AUTH0_RECEIVER_ENDPOINT=127.0.0.1:0",
			"AUTH0_RECEIVER_SECRET=receiver-secret",
			"SPLUNK_HEC_ENDPOINT=https://splunk.example:8088/services/collector",
			"SPLUNK_HEC_TOKEN=hec-token",
			"OTELCOL_STORAGE_DIR=" + storage,
		}
		if salt != nil {
			cmd.Env = append(cmd.Env, "PII_HASH_SALT="+*salt)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	salt := "3f1c9a7be0d24c6b8e5a0f9d7c2b4e61"
	out, err := run(&salt)
	require.NoError(t, err, "with a salt: %s", out)

	empty := ""
	for name, s := range map[string]*string{"unset": nil, "empty": &empty} {
		out, err := run(s)
		assert.Error(t, err, "%s PII_HASH_SALT: the configuration validated: %s", name, out)
		assert.Contains(t, out, "PII_HASH_SALT must be set", "%s PII_HASH_SALT", name)
	}
}
