// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

const segmentSuffix = ".journal"

// segment is one file of the journal.
type segment struct {
	id        uint64
	path      string
	file      *os.File
	size      int64 // bytes of whole records
	live      int64 // bytes of the keys and values the index points at
	allocated int64 // bytes from the start whose disk blocks are reserved
}

// allocationStep is how far at a time blocks are reserved ahead of the
// newest segment's end, so that writing does not cost a system call each.
const allocationStep = 1 << 20

var (
	errAllocateUnsupported = errors.New("the filesystem cannot reserve blocks")
	errSyncDir             = errors.New("fsync of the journal directory failed")
)

func segmentPath(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", id, segmentSuffix))
}

func createSegment(dir string, id uint64, fsync bool) (*segment, error) {
	path := segmentPath(dir, id)
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal storage: create segment: %w", err)
	}
	if _, err := file.WriteAt(segmentHeader(), 0); err != nil {
		file.Close()
		if rerr := os.Remove(path); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("journal storage: create segment %s: %w", path, err)
	}
	if fsync {
		// The new file's name must survive a crash as well as its records.
		if err := syncDir(dir); err != nil {
			file.Close()
			return nil, fmt.Errorf("%w: %w", errSyncDir, err)
		}
	}
	return &segment{id: id, path: path, file: file, size: segmentHeaderSize}, nil
}

func (s *segment) read(offset int64, length int) ([]byte, error) {
	value := make([]byte, length)
	if _, err := s.file.ReadAt(value, offset); err != nil {
		return nil, fmt.Errorf("journal storage: read %d bytes at %d of %s: %w", length, offset, s.path, err)
	}
	return value, nil
}

func (s *segment) remove(logger *zap.Logger) {
	if err := s.file.Close(); err != nil {
		logger.Warn("Closing a journal segment failed", zap.String("segment", s.path), zap.Error(err))
	}
	// A segment left behind by a failed removal is harmless: everything in
	// it was replaced or deleted by newer records, which replay after it.
	if err := os.Remove(s.path); err != nil {
		logger.Warn("Removing a journal segment failed", zap.String("segment", s.path), zap.Error(err))
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal storage: open directory to fsync it: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal storage: fsync directory %s: %w", dir, err)
	}
	return nil
}

// segmentIDs lists the segments in dir, oldest first.
func segmentIDs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal storage: %w", err)
	}
	var ids []uint64
	for _, entry := range entries {
		name, ok := strings.CutSuffix(entry.Name(), segmentSuffix)
		if !ok || entry.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil || len(name) != 16 {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

type options struct {
	fsync       bool
	segmentSize int64
	telemetry   *journalTelemetry
}

// reserveFor is the room kept for draining the queue in the newest segment
// of a journal of segments of segmentSize: each item read and each item
// sent costs the queue a record of about 60 bytes, so a 16th of a segment
// drains a whole segment of items of 2 KiB or more, after which the
// segment is removed and the disk has room again.
func reserveFor(segmentSize int64) int64 { return segmentSize / 16 }

// openJournal replays the segments in dir into a new index. A record cut
// short at the end of the newest segment is what a crash leaves mid-write,
// before the batch was acknowledged: it is cut off. Damage anywhere else is
// not, and opening fails rather than drop what follows it.
func openJournal(dir string, opts options, logger *zap.Logger) (*journal, error) {
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	j := &journal{
		dir: dir, fsync: opts.fsync, segmentSize: opts.segmentSize, reserve: reserveFor(opts.segmentSize),
		logger: logger, metrics: opts.telemetry, unlock: unlock, index: map[string]location{}, syncFile: (*os.File).Sync,
	}
	if err := j.replayAll(); err != nil {
		for _, seg := range j.segments {
			seg.file.Close()
		}
		_ = unlock() // the replay's error is the one to tell
		return nil, err
	}
	j.reclaimLocked()
	// What was reserved before a restart is not known (and a torn tail's
	// truncation gave it back): reserve again, as far as there is room.
	active := j.active()
	active.allocated = active.size
	if err := j.allocateLocked(active, active.size+j.reserve); err != nil {
		logger.Warn("No room to reserve disk blocks for draining the queue", zap.String("segment", active.path), zap.Error(err))
	}
	return j, nil
}

func (j *journal) replayAll() error {
	ids, err := segmentIDs(j.dir)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		seg, err := createSegment(j.dir, 1, j.fsync)
		if err != nil {
			return err
		}
		j.segments = []*segment{seg}
		return nil
	}
	reader := bufio.NewReaderSize(nil, 1<<20)
	var payload []byte
	var ops []recordOp
	for i, id := range ids {
		path := segmentPath(j.dir, id)
		file, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("journal storage: %w", err)
		}
		seg := &segment{id: id, path: path, file: file, size: segmentHeaderSize}
		j.segments = append(j.segments, seg)
		switch err := readSegmentHeader(file); {
		case errors.Is(err, errTornHeader) && i == len(ids)-1:
			// Created when the crash came, before any record: start it again.
			if err := j.restartSegment(seg); err != nil {
				return err
			}
			continue
		case errors.Is(err, errTornHeader):
			return fmt.Errorf("%w: segment %s has no header, and it is not the newest segment, so this is not a crash's doing; "+
				"move the directory %s aside to start empty", errUnknownFormat, path, j.dir)
		case err != nil:
			return fmt.Errorf("segment %s: %w; move the directory %s aside to start empty", path, err, j.dir)
		}
		info, err := file.Stat()
		if err != nil {
			return fmt.Errorf("journal storage: %w", err)
		}
		reader.Reset(io.NewSectionReader(file, segmentHeaderSize, 1<<62))
		var header [recordHeaderSize]byte
		for {
			_, err := io.ReadFull(reader, header[:])
			if errors.Is(err, io.EOF) {
				break
			}
			var length int
			var sum uint32
			if err == nil {
				length, sum, err = payloadLength(header[:])
			}
			// A length cut short can claim up to the limit: check it against
			// the file before allocating for it.
			if err == nil && seg.size+int64(recordHeaderSize+length) > info.Size() {
				err = io.ErrUnexpectedEOF
			}
			if err == nil {
				payload = slices.Grow(payload[:0], length)[:length]
				if _, err = io.ReadFull(reader, payload); errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
			}
			if err == nil {
				ops, err = decodePayload(payload, sum, ops[:0])
			}
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errTornRecord) {
				if i < len(ids)-1 {
					return fmt.Errorf("journal storage: segment %s is damaged at byte %d, and it is not the newest segment, "+
						"so this is not a write a crash cut short; move the directory %s aside to start empty", path, seg.size, j.dir)
				}
				if err := j.cutTail(seg); err != nil {
					return err
				}
				break
			}
			if err != nil {
				return fmt.Errorf("journal storage: read %s: %w", path, err)
			}
			j.apply(seg, seg.size+recordHeaderSize, ops)
			seg.size += int64(recordHeaderSize + length)
			j.written++
		}
	}
	j.synced = j.written
	return nil
}

// restartSegment gives the newest segment, whose header a crash cut short,
// a whole header and nothing after it.
func (j *journal) restartSegment(seg *segment) error {
	j.logger.Warn("Journal ends with a segment a crash cut short while it was created; it held no record",
		zap.String("segment", seg.path))
	if err := seg.file.Truncate(0); err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	if _, err := seg.file.WriteAt(segmentHeader(), 0); err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	if j.fsync {
		if err := j.syncFile(seg.file); err != nil {
			return fmt.Errorf("journal storage: fsync %s: %w", seg.path, err)
		}
	}
	return nil
}

// cutTail drops what follows the last whole record of the newest segment.
func (j *journal) cutTail(seg *segment) error {
	info, err := seg.file.Stat()
	if err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	j.logger.Warn("Journal ends with a record a crash cut short; it was never acknowledged and is dropped",
		zap.String("segment", seg.path), zap.Int64("offset", seg.size), zap.Int64("bytes_dropped", info.Size()-seg.size))
	if err := seg.file.Truncate(seg.size); err != nil {
		return fmt.Errorf("journal storage: cut the torn end of %s: %w", seg.path, err)
	}
	if j.fsync {
		if err := j.syncFile(seg.file); err != nil {
			return fmt.Errorf("journal storage: fsync %s: %w", seg.path, err)
		}
	}
	return nil
}
