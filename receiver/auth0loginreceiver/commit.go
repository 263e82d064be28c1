// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-auth0/otelcol-auth0/internal/groupcommit"
)

const (
	// commitsInFlight: fewer make larger groups, which cost less CPU per
	// event, but keep full batches waiting longer for the commit in front
	// of them; 4 is between the two (docs/benchmarks.md has the figures).
	// More than one, so that the cores work on one commit's processing
	// while another waits on the disk.
	commitsInFlight = 4
	// maxGroupRecords keeps a group (one persistent queue item, one
	// processor batch) of ordinary size under any load.
	maxGroupRecords = 4096
)

// newGroupCommit hands the records of concurrent requests to the pipeline
// together (internal/groupcommit). Behind the persistent queue every
// ConsumeLogs is a storage write that waits for an fsync, and the queue
// later writes again to read and delete the item; merging what arrives
// while a commit is in flight makes that cost per group instead of per
// request.
//
// Every request of a group gets the group's answer: accepted together, or
// refused together and sent again by Auth0 (at least once, as always).
func newGroupCommit(next consumer.Logs, newLogs func() (plog.Logs, plog.LogRecordSlice)) *groupcommit.Committer[plog.LogRecordSlice] {
	return groupcommit.New(consumeGroup(next, newLogs), groupcommit.Options[plog.LogRecordSlice]{
		InFlight: commitsInFlight,
		MaxSize:  maxGroupRecords,
		Size:     plog.LogRecordSlice.Len,
	})
}

// consumeGroup moves the records of a group's requests into one container
// of newLogs (one resource and one scope, like a single request's) and
// hands it to next in one ConsumeLogs.
func consumeGroup(next consumer.Logs, newLogs func() (plog.Logs, plog.LogRecordSlice)) func(context.Context, []plog.LogRecordSlice) error {
	return func(ctx context.Context, requests []plog.LogRecordSlice) error {
		logs, records := newLogs()
		for _, r := range requests {
			r.MoveAndAppendTo(records)
		}
		return next.ConsumeLogs(ctx, logs)
	}
}
