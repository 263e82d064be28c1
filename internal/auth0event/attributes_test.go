// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// view builds a record's attributes and body from raw values.
func view(t *testing.T, attrs, body map[string]any) View {
	t.Helper()
	a := pcommon.NewMap()
	require.NoError(t, a.FromRaw(attrs))
	b := pcommon.NewValueEmpty()
	if body != nil {
		require.NoError(t, b.SetEmptyMap().FromRaw(body))
	}
	return NewView(a, b)
}

// TestView: what a View reads back, and what it leaves out when an
// attribute is absent or of another type.
func TestView(t *testing.T) {
	v := view(t, map[string]any{
		AttrSource: "log_stream", AttrLogID: "log-1", AttrEventID: "event-1", AttrType: "fp",
		AttrLoginsCount: int64(7), AttrUserID: int64(42),
	}, nil)
	assert.Equal(t, SourceLogStream, v.Source())
	assert.Equal(t, "log-1", v.ID(), "the log id comes first")
	assert.Equal(t, "fp", v.Str(AttrType))
	assert.Empty(t, v.Str(AttrUserID), "not a string")
	assert.Empty(t, v.Str(AttrUserName), "absent")
	ti, ok := v.Type()
	assert.True(t, ok)
	assert.Equal(t, TypeInfo{Code: "fp", Name: "Failed Login (Wrong Password)", Kind: KindFailure}, ti)
	n, ok := v.LoginsCount()
	assert.True(t, ok)
	assert.Equal(t, int64(7), n)
	_, ok = v.AppMetadata()
	assert.False(t, ok, "log events never carry app_metadata")

	v = view(t, map[string]any{AttrEventID: "event-1", AttrType: "x-new-code", AttrLoginsCount: 7.0}, nil)
	assert.Equal(t, "event-1", v.ID(), "an Action's event id")
	ti, ok = v.Type()
	assert.True(t, ok)
	assert.Equal(t, TypeInfo{Code: "x-new-code", Kind: KindUnknown}, ti, "a code outside the table")
	_, ok = v.LoginsCount()
	assert.False(t, ok, "the attribute is an integer or absent")

	v = view(t, map[string]any{}, nil)
	assert.Empty(t, v.ID())
	assert.Empty(t, v.Source())
	_, ok = v.Type()
	assert.False(t, ok)
	_, ok = v.LoginsCount()
	assert.False(t, ok)
}

func TestViewAppMetadata(t *testing.T) {
	action := map[string]any{AttrSource: string(SourceAction)}
	md, ok := view(t, action, map[string]any{"user": map[string]any{"app_metadata": map[string]any{"plan": "gold"}}}).AppMetadata()
	require.True(t, ok)
	assert.Equal(t, map[string]any{"plan": "gold"}, md.AsRaw())

	for name, body := range map[string]map[string]any{
		"no body":                 nil,
		"no user":                 {"event_id": "e"},
		"user not an object":      {"user": "auth0|1"},
		"no app_metadata":         {"user": map[string]any{"user_id": "auth0|1"}},
		"app_metadata not an obj": {"user": map[string]any{"app_metadata": "gold"}},
	} {
		_, ok := view(t, action, body).AppMetadata()
		assert.False(t, ok, name)
	}
	_, ok = view(t, map[string]any{AttrSource: string(SourceLogAPI)}, map[string]any{"user": map[string]any{"app_metadata": map[string]any{}}}).AppMetadata()
	assert.False(t, ok, "only an Action's body is read for app_metadata")
}

// TestGetInt: an integral number is read from either pdata number type,
// anything else is not a number.
func TestGetInt(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.FromRaw(map[string]any{"int": int64(3), "whole": 3.0, "fraction": 3.5, "str": "3", "neg": -2.0}))
	for key, want := range map[string]int64{"int": 3, "whole": 3, "neg": -2} {
		n, ok := getInt(m, key)
		assert.True(t, ok, key)
		assert.Equal(t, want, n, key)
	}
	for _, key := range []string{"fraction", "str", "absent"} {
		_, ok := getInt(m, key)
		assert.False(t, ok, key)
	}
}

func TestPutStrLeavesEmptyOut(t *testing.T) {
	attrs := pcommon.NewMap()
	putStr(attrs, AttrUserID, "")
	putStr(attrs, AttrUserName, "ana@example.com")
	assert.Equal(t, map[string]any{AttrUserName: "ana@example.com"}, attrs.AsRaw())
}
