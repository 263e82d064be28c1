// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"

import (
	"math"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// CPUTime is the process's user plus system CPU time, read from the OS.
func CPUTime(pid int) (time.Duration, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, err
	}
	t, err := p.Times()
	if err != nil {
		return 0, err
	}
	// gopsutil gives float seconds (clock ticks divided by their rate):
	// rounding keeps a whole number of ticks exact.
	return time.Duration(math.Round((t.User + t.System) * float64(time.Second))), nil
}

// Memory is the process's resident set size now and at its peak.
func Memory(pid int) (rss, peak int64, err error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, 0, err
	}
	m, err := p.MemoryInfo()
	if err != nil {
		return 0, 0, err
	}
	peak, err = peakRSS(pid)
	return int64(m.RSS), peak, err
}

// MemoryDetail splits the resident set into anonymous memory (the Go heap
// and runtime) and file-backed or shared pages (mapped files such as the
// persistent queue's bbolt database, which the kernel can drop at will).
func MemoryDetail(pid int) (anon, file int64, err error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, 0, err
	}
	m, err := p.MemoryInfoEx()
	if err != nil {
		return 0, 0, err
	}
	// On Linux Shared is statm's shared: file-backed plus shmem pages, the
	// rest of the resident set is anonymous.
	return int64(m.RSS - m.Shared), int64(m.Shared), nil
}
