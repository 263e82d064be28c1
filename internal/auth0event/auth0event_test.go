// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0event

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

var observed = pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 8, 20, 0, 0, time.UTC))

// updateGolden rewrites the expected files: UPDATE_GOLDEN=1 go test ./...
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func readTestdata(_ *testing.T, name string) []byte {
	return auth0test.Sample(name)
}

func walkToLogs(t *testing.T, body []byte, src Source) (plog.Logs, []RecordError) {
	t.Helper()
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	_, rejected, err := WalkLogStream(body, DefaultLimits, func(rec pcommon.Map) {
		MapLogEvent(rec, LogEventHeader(rec), src, observed, records.AppendEmpty())
	})
	require.NoError(t, err)
	return logs, rejected
}

func compareGolden(t *testing.T, name string, got plog.Logs) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden {
		require.NoError(t, golden.WriteLogs(t, path, got))
	}
	want, err := golden.ReadLogs(path)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(want, got))
}
