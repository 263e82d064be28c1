package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// groupCommit hands the records of concurrent requests to the pipeline
// together. Behind the persistent queue every ConsumeLogs is a storage write
// that waits for an fsync, and the queue later writes again to read and
// delete the item; merging what arrives while a commit is in flight makes
// that cost per group instead of per request. No request waits for a timer:
// one that finds no commit in flight is committed at once, so the groups
// grow only as fast as the load does.
//
// Every request of a group gets the group's answer: accepted together, or
// refused together and sent again by Auth0 (at least once, as always).
type groupCommit struct {
	next consumer.Logs
	// newLogs makes the group's container: one resource and one scope,
	// like a single request's.
	newLogs func() (plog.Logs, plog.LogRecordSlice)
	// inFlight bounds the commits running at once, so that requests
	// gather while they run; more than one, so that the cores work on one
	// commit's processing while another waits on the disk.
	inFlight chan struct{}
	maxSize  int

	mu      sync.Mutex
	pending *commitGroup // the group requests join; nil when none is open
}

type commitGroup struct {
	logs    plog.Logs
	records plog.LogRecordSlice
	done    chan struct{}
	err     error
}

const (
	// commitsInFlight: fewer make larger groups, which cost less CPU per
	// event, but keep full batches waiting longer for the commit in front
	// of them; 4 is between the two (docs/benchmarks.md has the figures).
	commitsInFlight = 4
	// maxGroupRecords keeps a group (one persistent queue item, one
	// processor batch) of ordinary size under any load.
	maxGroupRecords = 4096
)

func newGroupCommit(next consumer.Logs, newLogs func() (plog.Logs, plog.LogRecordSlice)) *groupCommit {
	return &groupCommit{
		next:     next,
		newLogs:  newLogs,
		inFlight: make(chan struct{}, commitsInFlight),
		maxSize:  maxGroupRecords,
	}
}

// commit moves records into the open group (opening one if needed) and
// returns once that group was consumed, with its result. The first request
// of a group leads it: it waits for a commit slot, closes the group to
// newcomers and consumes it.
func (g *groupCommit) commit(ctx context.Context, records plog.LogRecordSlice) error {
	g.mu.Lock()
	group := g.pending
	leader := group == nil || group.records.Len()+records.Len() > g.maxSize
	if leader {
		group = &commitGroup{done: make(chan struct{})}
		group.logs, group.records = g.newLogs()
		g.pending = group
	}
	records.MoveAndAppendTo(group.records)
	g.mu.Unlock()

	if !leader {
		<-group.done
		return group.err
	}
	g.inFlight <- struct{}{}
	g.mu.Lock()
	if g.pending == group {
		g.pending = nil
	}
	g.mu.Unlock()
	// The group carries other requests too: the leader's going away (its
	// client disconnecting) must not fail theirs.
	group.err = g.next.ConsumeLogs(context.WithoutCancel(ctx), group.logs)
	<-g.inFlight
	close(group.done)
	return group.err
}
