// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package groupcommit lets concurrent callers share one commit: what they
// hand in while commits are in flight gathers in a group, one call commits
// the group, and every caller in it gets that call's result. No caller
// waits for a timer: one that finds a commit slot free is committed at
// once, so groups grow only as fast as the load does.
package groupcommit // import "github.com/otelcol-auth0/otelcol-auth0/internal/groupcommit"

import (
	"context"
	"sync"
)

// Committer commits the items of concurrent callers in groups.
type Committer[T any] struct {
	commit  func(ctx context.Context, items []T) error
	size    func(T) int
	maxSize int
	// inFlight bounds the commits running at once, so that callers
	// gather while they run.
	inFlight chan struct{}

	mu   sync.Mutex
	open *group[T] // the group callers join; nil when none is open
}

type group[T any] struct {
	items []T
	size  int
	done  chan struct{}
	err   error
}

// Options shape the groups.
type Options[T any] struct {
	// InFlight is how many commits run at once; 1 when less. With 1 and
	// no MaxSize, at most one group waits for the commit in front of it,
	// so items are committed in the order they came.
	InFlight int
	// MaxSize bounds a group: an item that would take the sum of Size
	// over the group's items past it opens a new group. No bound when 0.
	MaxSize int
	Size    func(T) int
}

// New returns a Committer whose groups commit calls; commit gets the
// group's items in the order they came.
func New[T any](commit func(ctx context.Context, items []T) error, opts Options[T]) *Committer[T] {
	return &Committer[T]{
		commit:   commit,
		size:     opts.Size,
		maxSize:  opts.MaxSize,
		inFlight: make(chan struct{}, max(opts.InFlight, 1)),
	}
}

// Commit adds item to the open group, or opens one, and returns once that
// group was committed, with the commit's result. The caller that opens a
// group leads it: it waits for a commit slot, closes the group to
// newcomers and commits it.
func (c *Committer[T]) Commit(ctx context.Context, item T) error {
	size := 0
	if c.maxSize > 0 {
		size = c.size(item)
	}
	c.mu.Lock()
	g := c.open
	leader := g == nil || (c.maxSize > 0 && g.size+size > c.maxSize)
	if leader {
		g = &group[T]{done: make(chan struct{})}
		c.open = g
	}
	g.items = append(g.items, item)
	g.size += size
	c.mu.Unlock()

	if !leader {
		<-g.done
		return g.err
	}
	c.inFlight <- struct{}{}
	c.mu.Lock()
	if c.open == g {
		c.open = nil
	}
	c.mu.Unlock()
	// The group carries other callers' items too: the leader's going away
	// (its client disconnecting) must not fail theirs.
	g.err = c.commit(context.WithoutCancel(ctx), g.items)
	<-c.inFlight
	close(g.done)
	return g.err
}
