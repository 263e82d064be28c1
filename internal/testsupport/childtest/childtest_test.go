// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childtest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The body runs in a child with the directory, which the parent then
// sees; the parent's own process is left as it was.
func TestRun(t *testing.T) {
	const env = "CHILDTEST_TEST_DIR"
	Run(t, env, nil, func(t *testing.T, dir string) {
		require.Equal(t, dir, os.Getenv(env), "the body runs in the child")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "from-child"), []byte(os.Args[0]), 0o600))
	})
	if os.Getenv(env) == "" {
		// In the parent: the child wrote where the parent can read.
		matches, err := filepath.Glob(filepath.Join(t.TempDir(), "..", "*", "from-child"))
		require.NoError(t, err)
		assert.Len(t, matches, 1)
	}
}

func TestRunPattern(t *testing.T) {
	for name, matches := range map[string][]string{
		"TestA":       {"TestA"},
		"TestA/sub_1": {"TestA", "sub_1"},
		"TestA/x.y+z": {"TestA", "x.y+z"},
	} {
		pattern := RunPattern(name)
		levels := regexp.MustCompile("/").Split(pattern, -1)
		require.Len(t, levels, len(matches), pattern)
		for i, level := range levels {
			re := regexp.MustCompile(level)
			assert.True(t, re.MatchString(matches[i]), "%s matches %s", level, matches[i])
			assert.False(t, re.MatchString(matches[i]+"x"), "%s is anchored", level)
			assert.False(t, re.MatchString("x"+matches[i]), "%s is anchored", level)
		}
	}
	assert.Equal(t, `^TestA$/^x\.y\+z$`, RunPattern("TestA/x.y+z"))
}
