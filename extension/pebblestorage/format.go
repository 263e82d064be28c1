package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A client's directory holds:
//
//	FORMAT   formatMagic, then the layout's version (uint32, little endian)
//	RESERVE  disk space held back for draining a full disk (reserve.go)
//	db/      the Pebble store: each storage.Client key and value verbatim
//
// FORMAT is written before anything else and names the layout, so that a
// later change of it is detected and refused, not misread; Pebble's own
// files carry Pebble's format version, which Pebble checks.
const (
	formatFile  = "FORMAT"
	reserveFile = "RESERVE"
	dbDir       = "db"

	formatVersion uint32 = 1
)

// formatMagic opens FORMAT: not text, so that no other tool's file starts
// with it by chance.
var formatMagic = []byte("\x89otelcol-auth0 pebble_storage\r\n\x1a\n")

var errUnknownFormat = errors.New("pebble storage: unknown on-disk format")

// checkFormat makes dir a store of this layout: an empty or new directory
// gets FORMAT; one that has it must have this version; anything else is
// refused.
func checkFormat(dir string, perm fs.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("pebble storage: %w (if it is a file, file_storage may have left it: move it aside)", err)
	}
	content, err := os.ReadFile(filepath.Join(dir, formatFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return initFormat(dir)
	case err != nil:
		return fmt.Errorf("pebble storage: %w", err)
	}
	version, err := parseFormat(content)
	if err != nil {
		return fmt.Errorf("%w: %s: %w; move the directory aside to start empty", errUnknownFormat, filepath.Join(dir, formatFile), err)
	}
	if version != formatVersion {
		return fmt.Errorf("%w: %s was written in layout version %d, and this collector reads version %d only; "+
			"run the collector version that wrote it until its queue is drained, or move the directory aside to start empty",
			errUnknownFormat, dir, version, formatVersion)
	}
	return nil
}

func parseFormat(content []byte) (uint32, error) {
	if !bytes.HasPrefix(content, formatMagic) {
		return 0, errors.New("it does not start with the pebble_storage magic number")
	}
	rest := content[len(formatMagic):]
	if len(rest) != 4 {
		return 0, fmt.Errorf("it has %d bytes after the magic number where a version takes 4", len(rest))
	}
	return binary.LittleEndian.Uint32(rest), nil
}

// initFormat writes FORMAT into dir, which must hold nothing else: a
// directory of another store (journal_storage's segments, anything) is
// not taken over and emptied.
func initFormat(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("pebble storage: %w", err)
	}
	tmp := filepath.Join(dir, formatFile+".tmp")
	for _, entry := range entries {
		// A FORMAT.tmp alone is a crash in the middle of this function.
		if entry.Name() != filepath.Base(tmp) {
			return fmt.Errorf("%w: %s holds %s but no %s file, so pebble_storage did not write it "+
				"(another storage extension's queue?); move it aside to start empty", errUnknownFormat, dir, entry.Name(), formatFile)
		}
	}
	content := binary.LittleEndian.AppendUint32(append([]byte{}, formatMagic...), formatVersion)
	if err := writeSynced(tmp, content); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, formatFile)); err != nil {
		return fmt.Errorf("pebble storage: %w", err)
	}
	return syncDir(dir)
}

func writeSynced(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("pebble storage: %w", err)
	}
	_, err = f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pebble storage: write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pebble storage: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pebble storage: fsync directory %s: %w", dir, err)
	}
	return nil
}
