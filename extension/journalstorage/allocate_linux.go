// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build linux

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"errors"
	"os"
	"syscall"
)

const (
	// fallocKeepSize reserves blocks without changing the file's size, so
	// that replay still ends at the last record written.
	fallocKeepSize  = 0x1 // FALLOC_FL_KEEP_SIZE
	fallocPunchHole = 0x2 // FALLOC_FL_PUNCH_HOLE
)

// allocate reserves disk blocks for length bytes of f from offset.
func allocate(f *os.File, offset, length int64) error {
	return fallocate(f, fallocKeepSize, offset, length)
}

// release gives back the blocks of length bytes of f from offset.
func release(f *os.File, offset, length int64) error {
	return fallocate(f, fallocKeepSize|fallocPunchHole, offset, length)
}

func fallocate(f *os.File, mode uint32, offset, length int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), mode, offset, length)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return errAllocateUnsupported
		}
		return err
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
