// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// journal is a key-value store made for a persistent queue: every Batch is
// appended to the newest segment file as one record and made durable with
// one fsync shared by the batches that arrived meanwhile; an in-memory
// index points at each key's current value. Nothing is rewritten in place,
// so writing an item costs its own size once, where a B+tree rewrites the
// pages of every neighbor that shares a leaf with it.
//
// Space comes back a segment at a time, oldest first: a segment whose
// values were all deleted or replaced is removed, and when the oldest one
// is mostly dead its few live values are copied forward. Only the oldest
// may go, because a deletion recorded in a newer segment must outlive the
// value it deleted.
//
// A full disk must not cost what is already stored. The persistent queue
// writes as it reads (its read index, then the deletion of the item sent),
// and when such a write fails it skips the item for good. So the journal
// keeps disk blocks reserved ahead of the end of the newest segment, and
// only a batch that adds a key (a new queue item) must find room beyond
// that reserve: when the disk fills, new items are refused with
// storage.ErrStorageFull while the queue still drains into the reserve,
// and draining frees whole segments.
//
// Not internal/groupcommit: each batch stays its own record, refused alone; only the fsync is shared.
type journal struct {
	dir         string
	fsync       bool
	segmentSize int64
	// reserve is how far ahead of its end the newest segment's blocks are
	// kept allocated; 0 where the filesystem cannot reserve blocks.
	reserve int64
	logger  *zap.Logger
	metrics *journalTelemetry
	unlock  func() error
	// syncFile flushes a segment file to the disk: (*os.File).Sync, which
	// tests replace to inject failures.
	syncFile func(*os.File) error

	mu       sync.Mutex
	index    map[string]location
	segments []*segment // oldest first; the last one is appended to
	writer   recordWriter
	pending  []recordOp
	// copier builds the records of values copied forward, which may be
	// made while writer holds a caller's record.
	copier    recordWriter
	copierOps []recordOp
	written   uint64 // records appended
	rotations uint64
	// items counts the keys that name persistent queue items (isItemKey).
	items int
	// err is sticky: once a write may be lost, the journal refuses more
	// rather than acknowledge what it cannot promise to keep.
	err error

	syncMu sync.Mutex
	synced uint64 // records known durable; guarded by syncMu
}

type location struct {
	segment *segment
	offset  int64
	length  int
}

var errClosed = errors.New("journal storage client is closed")

// Get implements storage.Client.
func (j *journal) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := j.Batch(ctx, op)
	return op.Value, err
}

// Set implements storage.Client.
func (j *journal) Set(ctx context.Context, key string, value []byte) error {
	return j.Batch(ctx, storage.SetOperation(key, value))
}

// Delete implements storage.Client.
func (j *journal) Delete(ctx context.Context, key string) error {
	return j.Batch(ctx, storage.DeleteOperation(key))
}

// Batch implements storage.Client: the operations run in order, a Get
// sees the mutations before it, and the mutations reach the disk together
// or not at all. It returns once they are durable.
func (j *journal) Batch(ctx context.Context, ops ...*storage.Operation) error {
	err := j.batch(ctx, ops)
	if err != nil {
		j.metrics.batchFailed(err)
	}
	return err
}

func (j *journal) batch(ctx context.Context, ops []*storage.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return j.err
	}
	j.writer.reset()
	j.pending = j.pending[:0]
	for i, op := range ops {
		switch op.Type {
		case storage.Get:
			value, err := j.lookupLocked(op.Key, ops[:i])
			if err != nil {
				j.mu.Unlock()
				return err
			}
			op.Value = value
		case storage.Set:
			j.writer.set(op.Key, op.Value)
			j.pending = append(j.pending, recordOp{kind: opSet, key: op.Key, valueLength: len(op.Value)})
		case storage.Delete:
			j.writer.delete(op.Key)
			j.pending = append(j.pending, recordOp{kind: opDelete, key: op.Key})
		default:
			j.mu.Unlock()
			return fmt.Errorf("journal storage: unknown operation type %d for key %q", op.Type, op.Key)
		}
	}
	if len(j.pending) == 0 {
		j.mu.Unlock()
		return nil
	}
	seq, err := j.appendLocked()
	j.mu.Unlock()
	if err != nil {
		return err
	}
	return j.waitDurable(seq)
}

// lookupLocked returns key's value as the batch so far left it.
func (j *journal) lookupLocked(key string, before []*storage.Operation) ([]byte, error) {
	if len(j.pending) > 0 {
		for i := len(before) - 1; i >= 0; i-- {
			op := before[i]
			if op.Key != key {
				continue
			}
			switch op.Type {
			case storage.Set:
				return append([]byte{}, op.Value...), nil
			case storage.Delete:
				return nil, nil
			}
		}
	}
	loc, ok := j.index[key]
	if !ok {
		return nil, nil
	}
	return loc.segment.read(loc.offset, loc.length)
}

// appendLocked writes the pending record and applies it to the index.
func (j *journal) appendLocked() (uint64, error) {
	record, err := j.finishRecord()
	if err != nil {
		return 0, err
	}
	grows := j.growsLocked()
	seg := j.active()
	rotated := false
	if seg.size > segmentHeaderSize && seg.size+int64(record.length) > j.segmentSize {
		err := j.rotateLocked(true)
		if errors.Is(err, storage.ErrStorageFull) && grows && j.makeRoomLocked() {
			err = nil
		}
		switch {
		case err == nil:
			seg, rotated = j.active(), true
		case grows || j.err != nil:
			return 0, err
		}
		// A batch that adds no key goes on in the current segment's reserve.
	}
	if grows {
		err := j.allocateLocked(seg, seg.size+int64(record.length)+j.reserve)
		if errors.Is(err, storage.ErrStorageFull) && j.makeRoomLocked() {
			seg = j.active()
			err = j.allocateLocked(seg, seg.size+int64(record.length)+j.reserve)
		}
		if err != nil {
			return 0, err
		}
	}
	start, err := j.writeLocked(seg, record)
	if err != nil {
		return 0, err
	}
	j.apply(seg, start+recordHeaderSize, j.pending)
	j.reclaimLocked()
	if rotated {
		j.compactOldestLocked()
	}
	return j.written, nil
}

// finishRecord completes the pending record and gives the pending set
// operations their value offsets.
func (j *journal) finishRecord() (record, error) {
	record, err := j.writer.finish()
	if err != nil {
		return record, err
	}
	sets := 0
	for i := range j.pending {
		if j.pending[i].kind == opSet {
			j.pending[i].valueAt = j.writer.valueAt[sets]
			sets++
		}
	}
	return record, nil
}

// writeLocked appends record to seg and returns where it starts.
func (j *journal) writeLocked(seg *segment, record record) (int64, error) {
	start := seg.size
	if err := record.writeAt(seg.file, start); err != nil {
		// A record cut short would hide every later one from replay.
		if terr := seg.file.Truncate(start); terr != nil {
			return 0, j.failLocked(fmt.Errorf("journal storage: write to %s failed (%w) and cutting it off failed too: %w", seg.path, err, terr))
		}
		// Truncating gives back the blocks reserved past the end too.
		seg.allocated = start
		_ = j.allocateLocked(seg, start+j.reserve)
		if isOutOfSpace(err) {
			return 0, fmt.Errorf("%w: %w", storage.ErrStorageFull, err)
		}
		return 0, fmt.Errorf("journal storage: write to %s: %w", seg.path, err)
	}
	seg.size += int64(record.length)
	j.written++
	return start, nil
}

// growsLocked tells whether the pending record adds a key: only such a
// record must leave the reserve untouched.
func (j *journal) growsLocked() bool {
	for _, op := range j.pending {
		if _, ok := j.index[op.key]; op.kind == opSet && !ok {
			return true
		}
	}
	return false
}

// allocateLocked reserves seg's disk blocks up to end, a step at a time.
// It reports a lack of room as storage.ErrStorageFull.
func (j *journal) allocateLocked(seg *segment, end int64) error {
	if j.reserve == 0 || end <= seg.allocated {
		return nil
	}
	// Past the segment's size, only a batch that adds no key, or a record
	// larger than a segment, is written to it.
	target := min(roundUp(end, allocationStep), max(end, j.segmentSize+j.reserve))
	err := allocate(seg.file, seg.allocated, target-seg.allocated)
	if isOutOfSpace(err) {
		// The step's rounding may be what does not fit.
		target = end
		err = allocate(seg.file, seg.allocated, target-seg.allocated)
	}
	switch {
	case err == nil:
		seg.allocated = target
		return nil
	case errors.Is(err, errAllocateUnsupported):
		j.logger.Warn("The filesystem cannot reserve blocks for the journal: on a full disk the queue may skip items it reads",
			zap.String("segment", seg.path))
		j.reserve = 0
		return nil
	case isOutOfSpace(err):
		return fmt.Errorf("%w: no room left in %s beyond the %d bytes kept for draining the queue: %w", storage.ErrStorageFull, j.dir, j.reserve, err)
	}
	return fmt.Errorf("journal storage: reserve disk blocks for %s: %w", seg.path, err)
}

func roundUp(n, step int64) int64 { return (n + step - 1) / step * step }

// isOutOfSpace tells a write that found no room (a full disk, a used-up
// quota such as a pod's ephemeral-storage project quota, the process's
// file size limit) from one that failed otherwise: the first passes once
// space is freed, so the caller may retry.
func isOutOfSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

// apply points the index at a record's values; base is the file offset
// of the record's payload, which the value offsets count from.
func (j *journal) apply(seg *segment, base int64, ops []recordOp) {
	for _, op := range ops {
		old, existed := j.index[op.key]
		if existed {
			old.segment.live -= entrySize(op.key, old.length)
		}
		if op.kind == opDelete {
			if existed {
				delete(j.index, op.key)
				j.countItem(op.key, -1)
			}
			continue
		}
		j.index[op.key] = location{segment: seg, offset: base + int64(op.valueAt), length: op.valueLength}
		seg.live += entrySize(op.key, op.valueLength)
		if !existed {
			j.countItem(op.key, 1)
		}
	}
}

func (j *journal) countItem(key string, delta int) {
	if isItemKey(key) {
		j.items += delta
	}
}

// isItemKey tells the keys of the exporters' persistent queue items from
// its metadata: exporterhelper names an item by its index in decimal
// ("0", "1", ...), and its metadata by letters ("qmv0", and "ri", "wi",
// "di" of older versions).
func isItemKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	return true
}

// queuedItems is the number of persistent queue items the journal holds.
func (j *journal) queuedItems() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.items
}

func entrySize(key string, valueLength int) int64 { return int64(len(key) + valueLength) }

func (j *journal) active() *segment { return j.segments[len(j.segments)-1] }

// rotateLocked starts a new segment once the current one is full; the
// full one is flushed first, so a flush of the new one covers everything.
// Only a failed fsync stops the journal; a segment that cannot be created,
// or given its reserve when requireReserve, is removed again, and nothing
// was lost.
func (j *journal) rotateLocked(requireReserve bool) error {
	old := j.active()
	if j.fsync {
		if err := j.syncFile(old.file); err != nil {
			return j.failLocked(fmt.Errorf("journal storage: fsync %s: %w", old.path, err))
		}
	}
	// The full segment's reserve moves to the new one, or back if there
	// is no new one.
	if old.allocated > old.size {
		if err := release(old.file, old.size, old.allocated-old.size); err != nil {
			j.logger.Debug("Giving back a journal segment's reserved blocks failed", zap.String("segment", old.path), zap.Error(err))
		}
		old.allocated = old.size
	}
	seg, err := createSegment(j.dir, old.id+1, j.fsync)
	if err == nil {
		if err = j.allocateLocked(seg, j.reserve); err != nil && requireReserve {
			seg.remove(j.logger)
		} else {
			err = nil
		}
	}
	if err != nil {
		if errors.Is(err, errSyncDir) {
			return j.failLocked(err)
		}
		_ = j.allocateLocked(old, old.size+j.reserve)
		if isOutOfSpace(err) && !errors.Is(err, storage.ErrStorageFull) {
			return fmt.Errorf("%w: %w", storage.ErrStorageFull, err)
		}
		return err
	}
	j.segments = append(j.segments, seg)
	j.rotations++
	return nil
}

// reclaimLocked removes the oldest segments while nothing in them is live.
func (j *journal) reclaimLocked() {
	for len(j.segments) > 1 && j.segments[0].live == 0 {
		j.segments[0].remove(j.logger)
		j.segments = j.segments[1:]
	}
}

// compactOldestLocked copies the live values of the oldest segment to the
// newest when they are at most half of it, then removes it: a value that
// stays (an item redelivered forever, a key written once) would otherwise
// keep every segment after it on disk.
func (j *journal) compactOldestLocked() {
	if len(j.segments) < 2 {
		return
	}
	oldest := j.segments[0]
	if oldest.live*2 > oldest.size {
		return
	}
	moved, err := j.copyForwardLocked(func(s *segment) bool { return s == oldest })
	if err != nil {
		j.logger.Warn("Journal compaction skipped", zap.String("segment", oldest.path), zap.Error(err))
		return
	}
	j.logger.Debug("Journal segment compacted", zap.String("segment", oldest.path), zap.Int("values_moved", moved))
	j.reclaimLocked()
}

// makeRoomLocked is the way out of a disk the journal filled itself: the
// queue drained, but what it sent still takes the space of the segment
// it is in, the newest, which only a rotation lets go, and a rotation
// needs room. When the segments hold at least twice what is live, it
// starts a segment without a reserve, copies the live values into it
// (the old segment's reserve, given back by the rotation, makes room for
// them), removes every older segment and then reserves again. It reports
// whether it did.
func (j *journal) makeRoomLocked() bool {
	var total, live int64
	for _, seg := range j.segments {
		total += seg.size
		live += seg.live
	}
	if j.err != nil || total == 0 || live*2 > total {
		return false
	}
	if free, known := freeSpace(j.dir); known && free+j.active().allocated-j.active().size < live+recordOverhead(len(j.index)) {
		return false // the copies would not fit: nothing is gained by trying
	}
	old := j.active()
	if err := j.rotateLocked(false); err != nil {
		return false
	}
	seg := j.active()
	if _, err := j.copyForwardLocked(func(s *segment) bool { return s != seg }); err != nil {
		j.logger.Warn("Journal could not make room on a full disk", zap.String("directory", j.dir), zap.Error(err))
		if seg.size == segmentHeaderSize && j.err == nil {
			j.segments = j.segments[:len(j.segments)-1]
			seg.remove(j.logger)
			_ = j.allocateLocked(old, old.size+j.reserve)
		}
		return false
	}
	j.reclaimLocked()
	_ = j.allocateLocked(seg, seg.size+j.reserve)
	j.logger.Info("Journal made room on a full disk: its live values moved to a new segment, the older segments removed",
		zap.String("directory", j.dir), zap.Int64("bytes_before", total), zap.Int64("live_bytes", live))
	return true
}

// recordOverhead bounds the bytes a record of n values adds to them.
func recordOverhead(n int) int64 { return int64(opsStart + n*(1+2*binary.MaxVarintLen64)) }

// copyForwardLocked copies the live values of the segments from selects
// to the newest segment as one record, flushes it and points the index at
// the copies, so that those segments hold nothing live any more.
func (j *journal) copyForwardLocked(from func(*segment) bool) (int, error) {
	seg := j.active()
	w := &j.copier
	w.reset()
	// The values read for the copy can be a segment's worth: hold none
	// of them once written.
	defer clear(w.pieces)
	ops := j.copierOps[:0]
	for key, loc := range j.index {
		if loc.segment == seg || !from(loc.segment) {
			continue
		}
		value, err := loc.segment.read(loc.offset, loc.length)
		if err != nil {
			return 0, fmt.Errorf("cannot read a live value: %w", err)
		}
		w.set(key, value)
		ops = append(ops, recordOp{kind: opSet, key: key, valueLength: len(value)})
	}
	j.copierOps = ops
	if len(ops) == 0 {
		return 0, nil
	}
	record, err := w.finish()
	if err != nil {
		return 0, err
	}
	for i := range ops {
		ops[i].valueAt = w.valueAt[i]
	}
	start, err := j.writeLocked(seg, record)
	if err != nil {
		return 0, err
	}
	// The copies must be on disk before the originals go.
	if j.fsync {
		if err := j.syncFile(seg.file); err != nil {
			return 0, j.failLocked(fmt.Errorf("journal storage: fsync %s: %w", seg.path, err))
		}
	}
	j.apply(seg, start+recordHeaderSize, ops)
	return len(ops), nil
}

// waitDurable returns once record seq is on disk. One fsync covers every
// record appended before it started, so concurrent batches share it.
func (j *journal) waitDurable(seq uint64) error {
	if !j.fsync {
		return nil
	}
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= seq {
		return nil
	}
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return j.err
	}
	target, seg, rotations := j.written, j.active(), j.rotations
	j.mu.Unlock()
	began := time.Now()
	err := j.syncFile(seg.file)
	j.metrics.fsynced(time.Since(began))
	if err != nil {
		j.mu.Lock()
		defer j.mu.Unlock()
		// A segment closed meanwhile was flushed by the rotation that left
		// it, before it was closed. Any other failure fails every write
		// the fsync covered and all after them, even when a rotation
		// flushed the segment since: Linux reports a failed writeback to
		// one fsync only, so the rotation's may have succeeded for data
		// that was lost.
		if !errors.Is(err, os.ErrClosed) || j.rotations == rotations {
			return j.failLocked(fmt.Errorf("journal storage: fsync %s: %w", seg.path, err))
		}
	}
	j.synced = target
	return nil
}

func (j *journal) failLocked(err error) error {
	if j.err == nil {
		j.err = fmt.Errorf("%w; the journal in %s takes no more writes until the collector restarts", err, j.dir)
		j.logger.Error("Journal storage failed", zap.Error(err))
	}
	return j.err
}

// Close implements storage.Client.
func (j *journal) Close(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if errors.Is(j.err, errClosed) {
		return nil
	}
	var errs []error
	for _, seg := range j.segments {
		if err := seg.file.Close(); !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, j.unlock())
	j.err = errClosed
	return errors.Join(errs...)
}

// stats describes the journal for the log line at open (and tests).
type stats struct {
	segments int
	keys     int
	bytes    int64
	live     int64
}

func (j *journal) stats() stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := stats{segments: len(j.segments), keys: len(j.index)}
	for _, seg := range j.segments {
		s.bytes += seg.size
		s.live += seg.live
	}
	return s
}

var _ storage.Client = (*journal)(nil)
