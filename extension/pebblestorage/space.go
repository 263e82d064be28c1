package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// space keeps a full disk from costing what the store already holds. The
// persistent queue writes as it reads (its read index, then the deletion
// of each item sent), and when such a write fails it skips the item for
// good; and Pebble stops the process when its log or manifest cannot be
// written. So a store holds disk space back in a file (RESERVE) and admits
// a batch that adds a key, a new queue item, only while the reserve is
// held and the disk has room for the batch and for flushing a memtable.
// When a write of Pebble finds the disk full nonetheless (a flush, a
// compaction, another program on the volume), the reserve is removed and
// the write retried in its room (vfs.OnDiskFull); new keys are then
// refused until draining has made room for the reserve again.
type space struct {
	dir      string // measured for free space
	path     string // the reserve file
	size     int64  // of the reserve; 0 keeps none
	headroom int64  // room left for Pebble's own writes beyond a batch
	logger   *zap.Logger

	mu   sync.Mutex // serializes taking and giving up the reserve
	held atomic.Bool
}

func newSpace(dir, path string, size, headroom int64, logger *zap.Logger) *space {
	s := &space{dir: dir, path: path, size: size, headroom: headroom, logger: logger}
	// What a reserve file left from before holds is not known (a crash
	// while it was written): it is made again.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("Removing the old reserve file failed", zap.String("file", path), zap.Error(err))
	}
	if size > 0 && !s.hold() {
		logger.Warn("No room to hold disk space back for draining the queue: new items are refused until there is",
			zap.String("directory", dir), zap.Int64("reserve_bytes", size))
	}
	return s
}

// admit tells whether a batch of need bytes that adds keys may be written.
func (s *space) admit(need int64) bool {
	if !s.hold() {
		return false
	}
	free, known := freeSpace(s.dir)
	return !known || free >= need+s.headroom
}

// hold makes sure the reserve is held, taking it back when there is room
// for it and the headroom; it reports whether it is held.
func (s *space) hold() bool {
	if s.size == 0 || s.held.Load() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held.Load() {
		return true
	}
	if free, known := freeSpace(s.dir); known && free < s.size+s.headroom {
		return false
	}
	if err := s.create(); err != nil {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			s.logger.Warn("Removing a reserve file that could not be made failed", zap.String("file", s.path), zap.Error(rerr))
		}
		s.logger.Debug("Holding disk space back for draining failed", zap.Error(err))
		return false
	}
	s.held.Store(true)
	s.logger.Info("Disk space held back for draining the queue", zap.String("file", s.path), zap.Int64("bytes", s.size))
	return true
}

func (s *space) create() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = allocate(f, s.size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// release gives the reserve to the store: Pebble calls it when one of its
// writes found the disk full, and retries the write once it returns.
func (s *space) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held.Load() {
		return
	}
	if err := os.Remove(s.path); err != nil {
		s.logger.Error("The disk is full and the reserve file cannot be removed", zap.String("file", s.path), zap.Error(err))
		return
	}
	s.held.Store(false)
	s.logger.Warn("The disk is full: the space held back is given to draining the queue, and new items are refused until there is room again",
		zap.String("directory", s.dir), zap.Int64("reserve_bytes", s.size))
}

// writeZeros gives f its first size bytes where blocks cannot be allocated
// without writing them.
func writeZeros(f *os.File, size int64) error {
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return fmt.Errorf("write the reserve: %w", err)
		}
	}
	return f.Sync()
}
