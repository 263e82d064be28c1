// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// readFields reads in one pass what auth0event.View reads key by key; the
// two must agree on every record, including records that come off the wire
// with a key twice (OTLP allows it, and Map.Get answers the first) or with
// a value of another type than the receiver writes.
func TestReadFieldsAgreesWithView(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))

	read := []string{
		auth0event.AttrType, auth0event.AttrUserID, auth0event.AttrLogID, auth0event.AttrEventID,
		auth0event.AttrProtocol, auth0event.AttrSource, auth0event.AttrLoginsCount,
		auth0event.AttrClientName, auth0event.AttrClientAddress, auth0event.AttrUserName,
	}
	keys := append([]string{auth0event.AttrUserEmail, auth0event.AttrCategory, "auth0.type "}, read...)
	sources := []string{string(auth0event.SourceAction), string(auth0event.SourceLogStream), string(auth0event.SourceLogAPI), "", "Action"}

	const records = 2000
	logs := randomRecords(t, rng, records, keys, sources)
	lrs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, records, lrs.Len())
	var dupes, actions, withMetadata int
	for i := range lrs.Len() {
		lr := lrs.At(i)
		attrs := lr.Attributes()
		view := auth0event.NewView(attrs, lr.Body())
		got := readFields(attrs)
		dump := func() string { return attrsInOrder(attrs) }

		want := map[string]string{
			auth0event.AttrType: view.Str(auth0event.AttrType), auth0event.AttrUserID: view.Str(auth0event.AttrUserID),
			auth0event.AttrLogID: view.Str(auth0event.AttrLogID), auth0event.AttrEventID: view.Str(auth0event.AttrEventID),
			auth0event.AttrProtocol: view.Str(auth0event.AttrProtocol), auth0event.AttrSource: view.Str(auth0event.AttrSource),
			auth0event.AttrClientName: view.Str(auth0event.AttrClientName), auth0event.AttrClientAddress: view.Str(auth0event.AttrClientAddress),
			auth0event.AttrUserName: view.Str(auth0event.AttrUserName),
		}
		have := map[string]string{
			auth0event.AttrType: got.typ, auth0event.AttrUserID: got.user, auth0event.AttrLogID: got.logID,
			auth0event.AttrEventID: got.eventID, auth0event.AttrProtocol: got.protocol, auth0event.AttrSource: got.source,
			auth0event.AttrClientName: got.clientName, auth0event.AttrClientAddress: got.clientAddress, auth0event.AttrUserName: got.userName,
		}
		require.Equal(t, want, have, "record %d: %s", i, dump())
		count, hasCount := view.LoginsCount()
		require.Equal(t, hasCount, got.hasCount, "record %d: %s", i, dump())
		require.Equal(t, count, got.loginsCount, "record %d: %s", i, dump())
		require.Equal(t, view.ID(), got.id(), "record %d: %s", i, dump())

		if attrs.Len() > len(uniqueKeys(attrs)) {
			dupes++
		}
		if auth0event.Source(got.source) != auth0event.SourceAction {
			continue
		}
		actions++
		wantMD, wantOK := view.AppMetadata()
		gotMD, gotOK := appMetadata(lr.Body())
		require.Equal(t, wantOK, gotOK, "record %d", i)
		if wantOK {
			withMetadata++
			assert.Equal(t, wantMD.AsRaw(), gotMD.AsRaw(), "record %d", i)
		}
	}
	// The draw must reach the cases the comparison is for.
	require.Greater(t, dupes, records/4, "records with a key twice")
	require.Greater(t, actions, records/200, "Action records")
	require.Positive(t, withMetadata, "Action records with app_metadata")
}

// attrsInOrder shows a record's attributes as they are stored, a key twice
// included (AsRaw would keep one of them).
func attrsInOrder(m pcommon.Map) string {
	var b strings.Builder
	m.Range(func(k string, v pcommon.Value) bool {
		fmt.Fprintf(&b, "%q=%s(%s) ", k, v.Type(), v.AsString())
		return true
	})
	return b.String()
}

func uniqueKeys(m pcommon.Map) map[string]bool {
	seen := map[string]bool{}
	m.Range(func(k string, _ pcommon.Value) bool {
		seen[k] = true
		return true
	})
	return seen
}

// randomRecords builds the records as OTLP JSON, the only way to a map
// with a key twice, and decodes them as the collector would.
func randomRecords(t *testing.T, rng *rand.Rand, n int, keys, sources []string) plog.Logs {
	t.Helper()
	value := func(key string) map[string]any {
		switch rng.IntN(8) {
		case 0:
			return map[string]any{"intValue": rng.Int64N(5)}
		case 1:
			return map[string]any{"doubleValue": 2.0}
		case 2:
			return map[string]any{"boolValue": true}
		case 3:
			return map[string]any{"kvlistValue": map[string]any{"values": []any{}}}
		case 4:
			return map[string]any{}
		}
		if key == auth0event.AttrSource {
			return map[string]any{"stringValue": sources[rng.IntN(len(sources))]}
		}
		return map[string]any{"stringValue": []string{"", "a", "b|c", strings.Repeat("x", rng.IntN(40))}[rng.IntN(4)]}
	}
	kv := func(k string, v map[string]any) map[string]any { return map[string]any{"key": k, "value": v} }
	body := func() map[string]any {
		var user []any
		switch rng.IntN(4) {
		case 0:
			return map[string]any{"stringValue": "not a map"}
		case 1:
			user = append(user, kv("app_metadata", map[string]any{"stringValue": "not a map"}))
		case 2:
			md := []any{kv("signed_up", map[string]any{"boolValue": rng.IntN(2) == 0})}
			user = append(user, kv("app_metadata", map[string]any{"kvlistValue": map[string]any{"values": md}}))
		}
		return map[string]any{"kvlistValue": map[string]any{"values": []any{
			kv("user", map[string]any{"kvlistValue": map[string]any{"values": user}}),
		}}}
	}
	records := make([]any, n)
	for i := range records {
		var attrs []any
		for range rng.IntN(16) {
			k := keys[rng.IntN(len(keys))]
			attrs = append(attrs, kv(k, value(k)))
		}
		records[i] = map[string]any{"attributes": attrs, "body": body()}
	}
	doc := map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": records}}}}}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
	require.NoError(t, err)
	return logs
}
