//go:build linux

package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"errors"
	"os"
	"syscall"
)

// allocate gives f disk blocks for its first size bytes.
func allocate(f *os.File, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
		if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
			return writeZeros(f, size)
		}
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// freeSpace is what the filesystem holding dir has left for this process.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * st.Bsize, true
}
