// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// Memory is the process's resident set size now and at its peak.
func (p *Process) Memory() (rss, peak int64) {
	p.t.Helper()
	rss, peak, err := childproc.Memory(p.Pid())
	require.NoError(p.t, err)
	return rss, peak
}

// SampleAnon samples the process's anonymous memory (the Go heap and
// runtime; RSS also counts the persistent queue's mapped file, which grows
// with the backlog and which the kernel reclaims at will) until stop is
// called, which returns the peak.
func (p *Process) SampleAnon() (stop func() int64) {
	var peak int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if anon, _, err := childproc.MemoryDetail(p.Pid()); err == nil && anon > peak {
				peak = anon
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak
	}
}
