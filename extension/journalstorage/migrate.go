package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"go.etcd.io/bbolt"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

// file_storage keeps a client's data in a bbolt file at the very path where
// this extension keeps that client's journal directory, when both are given
// the same directory: a collector that moves its queue from file_storage
// to journal_storage finds the old queue there. It is imported, not left
// behind: what the old queue held was acknowledged to a sender.
const (
	fileStorageBucket = "default"
	importingSuffix   = ".importing"
	importedSuffix    = ".file_storage-imported"
)

// importFileStorage turns the file_storage database at path, if there is
// one, into a journal directory at path. Each step can be interrupted:
//  1. the data is written to path+".importing" and flushed;
//  2. the database is renamed path+".file_storage-imported" (kept: the
//     operator deletes it);
//  3. the journal is renamed to path.
//
// A ".importing" directory beside the database is an unfinished step 1 and
// is done again; without the database, step 3 is what is left.
func importFileStorage(path string, perm fs.FileMode, opts options, logger *zap.Logger) error {
	importing := path + importingSuffix
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(importing); err == nil {
			return os.Rename(importing, path)
		}
		return nil
	case err != nil:
		return fmt.Errorf("journal storage: %w", err)
	case info.IsDir():
		return nil
	}
	if err := os.RemoveAll(importing); err != nil {
		return fmt.Errorf("journal storage: remove an unfinished import: %w", err)
	}
	if err := os.Mkdir(importing, perm); err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	keys, err := copyFileStorage(path, importing, opts, logger)
	if err != nil {
		return fmt.Errorf("journal storage: import the file_storage database %s: %w", path, err)
	}
	if err := os.Rename(path, path+importedSuffix); err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	if err := os.Rename(importing, path); err != nil {
		return fmt.Errorf("journal storage: %w", err)
	}
	logger.Info("Imported a file_storage database into a journal; delete the old file once satisfied",
		zap.String("old", path+importedSuffix), zap.Int("keys", keys))
	return nil
}

func copyFileStorage(from, to string, opts options, logger *zap.Logger) (int, error) {
	db, err := bbolt.Open(from, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var ops []*storage.Operation
	err = db.View(func(tx *bbolt.Tx) error {
		bucket := tx.Bucket([]byte(fileStorageBucket))
		if bucket == nil {
			return nil
		}
		return bucket.ForEach(func(k, v []byte) error {
			ops = append(ops, storage.SetOperation(string(k), append([]byte{}, v...)))
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	j, err := openJournal(to, options{fsync: true, segmentSize: opts.segmentSize}, logger)
	if err != nil {
		return 0, err
	}
	if len(ops) > 0 {
		if err := j.Batch(context.Background(), ops...); err != nil {
			j.Close(context.Background())
			return 0, err
		}
	}
	return len(ops), j.Close(context.Background())
}
