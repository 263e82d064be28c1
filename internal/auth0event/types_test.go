// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestTypeTable(t *testing.T) {
	for code, ti := range KnownTypes() {
		assert.Equal(t, code, ti.Code)
		assert.NotEmpty(t, ti.Name, code)
		assert.NotEqual(t, KindUnknown, ti.Kind, code)
	}
	for code, kind := range map[string]Kind{
		"s": KindLogin, "scoa": KindLogin, "sens": KindLogin, "ss": KindSignup, "ssa": KindSilentAuth,
		"sertft": KindTokenExchange, "seacft": KindTokenExchange, "seccft": KindTokenExchange,
		"sepft": KindPasswordExchange, "slo": KindLogout, "f": KindFailure, "fs": KindFailure,
		"w": KindWarning, "limit_wc": KindSecurity, "pwd_leak": KindSecurity, "sapi": KindOther,
	} {
		ti, ok := LookupType(code)
		require.True(t, ok, code)
		assert.Equal(t, kind, ti.Kind, code)
	}
	assert.Equal(t, plog.SeverityNumberError, KindSecurity.Severity())
	assert.Equal(t, "unknown", Kind(200).String())
}
