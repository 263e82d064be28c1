// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
)

// TestParseCostBoundsWhatParsingBuilds measures what the receiver's walk
// and mapping (ReadLogStream then MapLogEvent) build from bodies of every
// shape that costs the most per byte or per record, and checks that
// parseCost, which admission reserves before parsing, bounds it: the live
// heap with the records kept, and the highest live heap seen while they
// were built (which holds the JSON reader's own memory too: its jsontext
// decoder and key caches, which a pooled reader keeps until a collection).
// Arrays nested one in another cost the most per byte: each level builds
// about 48 bytes of pdata for its two brackets. The test logs a table of
// what each shape built (go test -v -run TestParseCostBoundsWhatParsingBuilds).
func TestParseCostBoundsWhatParsingBuilds(t *testing.T) {
	if raceEnabled {
		t.Skip("measures memory, which the race detector changes")
	}
	limits := auth0event.DefaultLimits
	limits.MaxRecordBytes = 0
	var batch []auth0test.Event
	for i := range 100 {
		batch = append(batch, auth0test.Event{LogID: fmt.Sprintf("9002026112008%037d", i), UserID: fmt.Sprintf("auth0|u%d", i), LoginsCount: i + 1})
	}
	rec := `{"log_id":"p","type":"s","data":{"type":"s"}}`
	padded := func(elem string, size int) []byte {
		return []byte(`{"log_id":"p","type":"s","pad":[` + strings.Repeat(elem+",", size/(len(elem)+1)) + elem + "]}")
	}
	manyKeys := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"log_id":"k","type":"s","data":{`)
		for i := range n {
			fmt.Fprintf(&b, `"key%d":%d,`, i, i)
		}
		return b.String() + `"type":"s"}}`
	}
	nested := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	shapes := []struct {
		name string
		body []byte
	}{
		{"an Auth0 batch (100 records, auth0test)", auth0test.Lines(batch...)},
		{"minimal records `" + rec + "`", bytes.Repeat([]byte(rec+"\n"), limits.MaxRecords)},
		{"minimal records `{\"log_id\":\"1\",\"type\":\"s\"}`", bytes.Repeat([]byte(`{"log_id":"1","type":"s"}`+"\n"), limits.MaxRecords)},
		{"one record padded with `[0,0,...]`", padded("0", 1<<20)},
		{"... with `[[],[],...]`", padded("[]", 1<<20)},
		{"... with `[{},{},...]`", padded("{}", 1<<20)},
		{"... with `[\"\",\"\",...]`", padded(`""`, 1<<20)},
		{"... with `[null,null,...]`", padded("null", 1<<20)},
		{"records of 1,000 `0`", bytes.Repeat(append(padded("0", 2000), '\n'), 500)},
		{"records of 500 keys", bytes.Repeat([]byte(manyKeys(500)+"\n"), 200)},
		{"one record padded with `[[0],[0],...]`", padded("[0]", 1<<20)},
		{"... with `[[[]],[[]],...]`", padded(nested(2), 1<<20)},
		{"... with arrays 60 deep", padded(nested(60), 1<<20)},
		{"records of 155 bytes with arrays 60 deep", bytes.Repeat([]byte(`{"log_id":"p","type":"s","pad":[`+nested(60)+"]}\n"), 7000)},
	}
	t.Log("| JSON | Bytes | Records | Live pdata | Per JSON byte | Per record | Peak while building, per byte |")
	t.Log("|---|---|---|---|---|---|---|")
	for _, shape := range shapes {
		body := shape.body
		before := liveHeap(2)
		logs := plog.NewLogs()
		records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		var peak uint64
		sample := max(1, bytes.Count(body, []byte{'\n'})/8)
		out, err := auth0event.ReadLogStream(body, limits, func(rec pcommon.Map, h auth0event.Header) {
			auth0event.MapLogEvent(rec, h, auth0event.SourceLogStream, 0, records.AppendEmpty())
			if records.Len()%sample == 0 {
				// One collection: what the pool holds is still counted.
				peak = max(peak, liveHeap(1))
			}
		})
		require.NoError(t, err, shape.name)
		require.Equal(t, out.Records, records.Len(), shape.name)
		live := liveHeap(1) - before
		peak = max(peak, liveHeap(1)) - before
		runtime.KeepAlive(logs)

		cost := parseCost(len(body), bytes.Count(body, []byte{'{'}))
		perRecord := ""
		if out.Records > 1 {
			perRecord = strconv.FormatUint(live/uint64(out.Records), 10)
		}
		t.Logf("| %s | %d | %d | %d | %.1f | %s | %.1f |", shape.name, len(body), out.Records, live, float64(live)/float64(len(body)), perRecord, float64(peak)/float64(len(body)))
		assert.LessOrEqual(t, int64(live), cost, "%s: the records outgrow what admission reserves", shape.name)
		assert.LessOrEqual(t, int64(peak), cost, "%s: building them outgrows what admission reserves", shape.name)
	}
}

// liveHeap is the heap in use after n collections: one keeps what the
// sync.Pools hold, two free it.
func liveHeap(n int) uint64 {
	for range n {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
