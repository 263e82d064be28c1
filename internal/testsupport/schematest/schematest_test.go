// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package schematest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configretry"
)

type testInner struct {
	Level int `mapstructure:"level"`
}

type testConfig struct {
	confighttp.ServerConfig `mapstructure:",squash"`
	Name                    string                    `mapstructure:"name"`
	Wait                    time.Duration             `mapstructure:"wait"`
	Storage                 *component.ID             `mapstructure:"storage"`
	Secrets                 []configopaque.String     `mapstructure:"secrets"`
	Inner                   testInner                 `mapstructure:"inner"`
	Retry                   configretry.BackOffConfig `mapstructure:"retry"`
	unexported              int
	_                       struct{}
}

func TestGoodSchema(t *testing.T) {
	Check(t, "testdata/good", &testConfig{})
}

func TestEveryMistakeIsReported(t *testing.T) {
	diffs, err := Diff("testdata/bad", &testConfig{unexported: 1})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		`config.schema.yaml: the squashed confighttp.ServerConfig wants allOf $ref "go.opentelemetry.io/collector/config/confighttp.server_config" in the schema`,
		`config.schema.yaml: allOf $ref "go.opentelemetry.io/collector/config/confighttp.client_config" is no squashed field of schematest.testConfig`,
		`config.schema.yaml: key "retry" of schematest.testConfig is not in the schema`,
		`config.schema.yaml: schema property "extra" is no key of schematest.testConfig`,
		`config.schema.yaml name: string wants type: string, has "integer"`,
		`config.schema.yaml wait: a time.Duration wants type: string, format: duration`,
		`config.schema.yaml storage: component.ID is a pointer: want x-pointer: true`,
		`config.schema.yaml inner: key "level" of schematest.testInner is not in the schema`,
		`config.schema.yaml inner: schema property "levels" is no key of schematest.testInner`,
	}, diffs)
}

func TestUntaggedFieldIsReported(t *testing.T) {
	type untagged struct {
		Name string
	}
	diffs, err := Diff("testdata/good", &untagged{})
	require.NoError(t, err)
	assert.Contains(t, diffs, `config.schema.yaml: field schematest.untagged.Name has no mapstructure tag`)
}

func TestMissingSchemaIsAnError(t *testing.T) {
	_, err := Diff("testdata/none", &testConfig{})
	assert.ErrorContains(t, err, "config.schema.yaml")
}

func TestSnake(t *testing.T) {
	for name, want := range map[string]string{
		"ServerConfig":   "server_config",
		"BackOffConfig":  "back_off_config",
		"String":         "string",
		"TLSConfig":      "tls_config",
		"ClientConfigV2": "client_config_v2",
	} {
		assert.Equal(t, want, snake(name), name)
	}
}
