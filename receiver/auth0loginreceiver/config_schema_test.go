// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"testing"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/schematest"
)

// config.schema.yaml names every key of Config, and nothing else.
func TestConfigSchema(t *testing.T) {
	schematest.Check(t, ".", &Config{})
}
