//go:build !linux

package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import "os"

func allocate(f *os.File, size int64) error { return writeZeros(f, size) }

// freeSpace is not known here: batches are admitted, and the reserve is
// given up only when Pebble finds the disk full.
func freeSpace(string) (int64, bool) { return 0, false }
