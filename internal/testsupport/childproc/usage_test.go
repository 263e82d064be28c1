// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build linux

package childproc

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	childCPU   = 300 * time.Millisecond
	childAlloc = 64 << 20
)

func init() { children["usage"] = usageChild }

// usageChild burns childCPU of CPU time and prints what getrusage says of
// it; on SIGUSR1 it allocates childAlloc bytes and touches every page; on
// SIGUSR2 it frees them and returns them to the OS. It waits to be killed.
func usageChild() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2)
	for selfCPU() < childCPU {
		for range 1000 {
			_ = strconv.Itoa(len(signals)) // work that the compiler keeps
		}
	}
	fmt.Printf("burnt %d\n", selfCPU())
	<-signals
	buf := make([]byte, childAlloc)
	for i := 0; i < len(buf); i += os.Getpagesize() {
		buf[i] = 1
	}
	fmt.Println("allocated")
	<-signals
	runtime.KeepAlive(buf)
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Println("freed")
	select {}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The figures read through gopsutil are those /proc gives, read by hand
// (procCPU, procStatus), on a child that burns a known CPU time and
// allocates a known amount; the peak outlives a free, and ResetPeak
// brings it down to what is resident.
func TestUsageMatchesProc(t *testing.T) {
	p, err := Start(os.Args[0], []string{"-test.run=^$"}, map[string]string{childEnv: "usage"})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = p.Stop(syscall.SIGKILL, 10*time.Second) })
	pid := p.Pid()
	waitFor := func(line string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(p.Output(), line) }, time.Minute, 10*time.Millisecond, "child output:\n%s", p.Output())
	}

	// CPU: the child is idle now, so both readers see the same ticks.
	waitFor("burnt ")
	var burnt time.Duration
	_, err = fmt.Sscanf(p.Output(), "burnt %d", &burnt)
	require.NoError(t, err)
	before := procCPU(t, pid)
	cpu, err := CPUTime(pid)
	require.NoError(t, err)
	after := procCPU(t, pid)
	t.Logf("CPU: child's getrusage %v, /proc %v..%v, gopsutil %v", burnt, before, after, cpu)
	assert.True(t, before <= cpu && cpu <= after, "gopsutil %v outside /proc's %v..%v", cpu, before, after)
	// /proc truncates user and system time to a clock tick each.
	assert.GreaterOrEqual(t, cpu, burnt-20*time.Millisecond, "at least what the child burnt, less two clock ticks")
	assert.Less(t, cpu, burnt+time.Second, "about what the child burnt")

	base := readMemory(t, pid)
	require.NoError(t, p.Signal(syscall.SIGUSR1))
	waitFor("allocated")
	allocated := readMemory(t, pid)
	t.Logf("before the allocation: %s", base)
	t.Logf("after %d MiB allocated: %s", childAlloc>>20, allocated)
	assert.GreaterOrEqual(t, allocated.rss-base.rss, int64(childAlloc)*15/16, "the allocation is resident")
	assert.GreaterOrEqual(t, allocated.anon-base.anon, int64(childAlloc)*15/16, "the allocation is anonymous")
	assert.GreaterOrEqual(t, allocated.peak, allocated.rss)

	require.NoError(t, p.Signal(syscall.SIGUSR2))
	waitFor("freed")
	freed := readMemory(t, pid)
	t.Logf("after the free: %s", freed)
	assert.GreaterOrEqual(t, freed.peak, allocated.rss, "the peak outlives the free")
	require.NoError(t, ResetPeak(pid))
	_, peak, err := Memory(pid)
	require.NoError(t, err)
	rss := procStatus(t, pid)["VmRSS"]
	t.Logf("peak after ResetPeak: %d, resident %d", peak, rss)
	assert.Less(t, peak, allocated.rss, "the reset peak is what is resident now")
	assert.InDelta(t, rss, peak, 1<<20)
}

// memory is one reading of a child's memory, by gopsutil and by /proc.
type memory struct {
	rss, peak, anon, file                 int64 // gopsutil (peak: VmHWM)
	procRSS, procPeak, procAnon, procFile int64 // /proc/<pid>/status
}

func (m memory) String() string {
	return fmt.Sprintf("RSS %d (/proc %d, %+d), anon %d (%d, %+d), file %d (%d, %+d), peak %d (%d)",
		m.rss, m.procRSS, m.rss-m.procRSS, m.anon, m.procAnon, m.anon-m.procAnon, m.file, m.procFile, m.file-m.procFile, m.peak, m.procPeak)
}

// readMemory reads the child's memory both ways and checks that they
// agree to within tolerance: the child is idle, only the Go runtime's
// background work moves a page or two.
func readMemory(t *testing.T, pid int) memory {
	t.Helper()
	const tolerance = 256 << 10
	var m memory
	var err error
	m.rss, m.peak, err = Memory(pid)
	require.NoError(t, err)
	m.anon, m.file, err = MemoryDetail(pid)
	require.NoError(t, err)
	s := procStatus(t, pid)
	m.procRSS, m.procPeak, m.procAnon, m.procFile = s["VmRSS"], s["VmHWM"], s["RssAnon"], s["RssFile"]+s["RssShmem"]
	assert.InDelta(t, m.procRSS, m.rss, tolerance, "RSS: %s", m)
	assert.InDelta(t, m.procAnon, m.anon, tolerance, "anonymous: %s", m)
	assert.InDelta(t, m.procFile, m.file, tolerance, "file-backed: %s", m)
	assert.InDelta(t, m.procPeak, m.peak, tolerance, "peak: %s", m)
	assert.Equal(t, m.rss, m.anon+m.file)
	return m
}

// procCPU reads utime plus stime from /proc/<pid>/stat, in USER_HZ ticks
// (100 a second on every Linux architecture Go supports).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	// The command name (field 2) may hold spaces: count from its closing paren.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// utime and stime are fields 14 and 15, i.e. 11 and 12 after the state.
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	require.NoError(t, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	require.NoError(t, err)
	return time.Duration(utime+stime) * time.Second / 100
}

// procStatus reads the "kB" lines of /proc/<pid>/status, in bytes.
func procStatus(t *testing.T, pid int) map[string]int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	out := map[string]int64{}
	for line := range strings.Lines(string(raw)) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasSuffix(value, " kB") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(value, " kB")), 10, 64)
		require.NoError(t, err)
		out[key] = kb << 10
	}
	return out
}
