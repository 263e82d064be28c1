package childproc // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// CPUTime is the process's user plus system CPU time, read from the OS.
func CPUTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its closing paren.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// utime and stime are fields 14 and 15, i.e. 11 and 12 after the state.
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// Memory reads the process's resident set size and its peak (VmRSS, VmHWM).
func Memory(pid int) (rss, peak int64, err error) {
	status, err := statusBytes(pid)
	return status["VmRSS"], status["VmHWM"], err
}

// MemoryDetail reads the resident set split into anonymous memory (the Go
// heap and runtime) and file-backed pages (mapped files such as the
// persistent queue's bbolt database, which the kernel can drop at will).
func MemoryDetail(pid int) (anon, file int64, err error) {
	status, err := statusBytes(pid)
	return status["RssAnon"], status["RssFile"] + status["RssShmem"], err
}

// statusBytes reads the "kB" lines of /proc/<pid>/status, in bytes.
func statusBytes(pid int) (map[string]int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(value, " kB") {
			continue
		}
		if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(value, " kB")), 10, 64); err == nil {
			out[key] = kb << 10
		}
	}
	return out, nil
}

// ResetPeak resets VmHWM to the current RSS (writing 5 to clear_refs), so
// that a run's peak is its own, not the process's start-up's.
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
