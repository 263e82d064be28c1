// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestTypeTableGolden pins the whole table: a code added, dropped, renamed
// or given another kind shows in testdata/types.txt's diff (UPDATE_GOLDEN=1
// rewrites it), and LookupType answers each listed code as listed.
func TestTypeTableGolden(t *testing.T) {
	known := KnownTypes()
	var got strings.Builder
	for _, code := range slices.Sorted(maps.Keys(known)) {
		ti := known[code]
		fmt.Fprintf(&got, "%s\t%s\t%s\n", ti.Code, ti.Kind, ti.Name)
	}
	path := filepath.Join("testdata", "types.txt")
	if updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(got.String()), 0o600))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())

	lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	for _, line := range lines {
		fields := strings.Split(line, "\t")
		require.Len(t, fields, 3, line)
		ti, ok := LookupType(fields[0])
		require.True(t, ok, fields[0])
		assert.Equal(t, TypeInfo{Code: fields[0], Name: fields[2], Kind: ti.Kind}, ti)
		assert.Equal(t, fields[1], ti.Kind.String(), fields[0])
	}
	assert.Len(t, known, len(lines))
	for _, code := range []string{"", "S", " s", "x-not-a-code"} {
		_, ok := LookupType(code)
		assert.False(t, ok, "%q is not a code", code)
	}
}

func TestKinds(t *testing.T) {
	for kind, want := range map[Kind]struct {
		name     string
		severity plog.SeverityNumber
	}{
		KindUnknown:          {"unknown", plog.SeverityNumberUnspecified},
		KindLogin:            {"login", plog.SeverityNumberInfo},
		KindSignup:           {"signup", plog.SeverityNumberInfo},
		KindSilentAuth:       {"silent_auth", plog.SeverityNumberInfo},
		KindPasswordExchange: {"password_exchange", plog.SeverityNumberInfo},
		KindTokenExchange:    {"token_exchange", plog.SeverityNumberInfo},
		KindLogout:           {"logout", plog.SeverityNumberInfo},
		KindFailure:          {"failure", plog.SeverityNumberWarn},
		KindWarning:          {"warning", plog.SeverityNumberWarn},
		KindSecurity:         {"security", plog.SeverityNumberError},
		KindOther:            {"other", plog.SeverityNumberInfo},
	} {
		assert.Equal(t, want.name, kind.String())
		assert.Equal(t, want.severity, kind.Severity(), want.name)
	}
}
