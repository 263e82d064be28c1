// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// peakRSS reads the peak resident set size (VmHWM) from /proc/<pid>/status.
// gopsutil reads /proc/<pid>/statm for MemoryInfo, which has no peak: its
// HWM field stays zero there.
func peakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(raw)) {
		value, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM of process %d: %w", pid, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("process %d: no VmHWM in /proc/%d/status", pid, pid)
}

// ResetPeak sets the peak resident set size to the current one (5 written
// to /proc/<pid>/clear_refs), so that a run's peak is its own, not that of
// the process's start-up.
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
