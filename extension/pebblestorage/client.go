package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
)

type clientOptions struct {
	fsync        bool
	memTableSize int64
	reserve      int64
	telemetry    *clientTelemetry
	// fs, when set, is the filesystem under Pebble (tests inject faults).
	fs vfs.FS
	// fatal ends the process after a failure Pebble cannot go on from, such
	// as a failed fsync of its log; the logger's Fatal when nil.
	fatal func(msg string)
}

// formatMajorVersion is the Pebble format the store is written in, fixed
// so that a newer Pebble does not move a store to a format an older
// collector cannot read without being asked to.
const formatMajorVersion = pebble.FormatValueSeparation

// maxManifestSize bounds Pebble's manifest (its log of file changes),
// which is otherwise let grow to 128 MiB before it is rewritten.
const maxManifestSize = 4 << 20

var errClosed = errors.New("pebble storage client is closed")

// client is a storage.Client on one Pebble store. Every batch is one Pebble
// batch, committed with a sync of the write-ahead log that Pebble shares
// among the batches committed meanwhile.
type client struct {
	dir     string
	db      *pebble.DB
	write   *pebble.WriteOptions
	space   *space
	metrics *clientTelemetry
	logger  *zap.Logger
	reclaim *reclaimer
	onClose func()

	mu     sync.RWMutex // batches hold it shared, close alone
	closed bool
}

var _ storage.Client = (*client)(nil)

func openClient(dir string, perm fs.FileMode, opts clientOptions, logger *zap.Logger) (*client, error) {
	if err := checkFormat(dir, perm); err != nil {
		return nil, err
	}
	sp := newSpace(dir, filepath.Join(dir, reserveFile), opts.reserve, opts.memTableSize+1<<20, logger)
	base := opts.fs
	if base == nil {
		base = vfs.Default
	}
	fatal := opts.fatal
	if fatal == nil {
		fatal = func(msg string) {
			logger.Fatal("Pebble storage cannot go on; what it acknowledged is on disk and is read back at restart", zap.String("reason", msg))
		}
	}
	pebbleOpts := &pebble.Options{
		FS:                  vfs.OnDiskFull(base, sp.release),
		FormatMajorVersion:  formatMajorVersion,
		MemTableSize:        uint64(opts.memTableSize),
		MaxManifestFileSize: maxManifestSize,
		Logger:              pebbleLogger{logger: logger.Sugar(), fatal: fatal},
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				logger.Warn("Pebble storage background work failed; it is retried", zap.Error(err))
			},
		},
	}
	pebbleOpts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(filepath.Join(dir, dbDir), pebbleOpts)
	if err != nil {
		return nil, fmt.Errorf("pebble storage: open %s: %w", dir, err)
	}
	write := pebble.Sync
	if !opts.fsync {
		write = pebble.NoSync
	}
	c := &client{dir: dir, db: db, write: write, space: sp, metrics: opts.telemetry, logger: logger}
	c.reclaim = newReclaimer(db, logger)
	return c, nil
}

// Get implements storage.Client.
func (c *client) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

// Set implements storage.Client.
func (c *client) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

// Delete implements storage.Client.
func (c *client) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

// Batch implements storage.Client: the operations run in order, a Get
// reads the store with the batch's earlier operations applied, and the
// mutations are committed together or not at all. It returns once they
// are durable.
func (c *client) Batch(ctx context.Context, ops ...*storage.Operation) error {
	err := c.batch(ctx, ops)
	if err != nil {
		c.metrics.batchFailed(err)
	}
	return err
}

func (c *client) batch(ctx context.Context, ops []*storage.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	var b *pebble.Batch
	var written int64
	sets, deletes := 0, 0
	for i, op := range ops {
		switch op.Type {
		case storage.Get:
			value, err := c.lookup(op.Key, ops[:i])
			if err != nil {
				if b != nil {
					b.Close()
				}
				return err
			}
			op.Value = value
			continue
		case storage.Set, storage.Delete:
		default:
			if b != nil {
				b.Close()
			}
			return fmt.Errorf("pebble storage: unknown operation type %d for key %q", op.Type, op.Key)
		}
		if b == nil {
			b = c.db.NewBatch()
		}
		var err error
		if op.Type == storage.Set {
			err = b.Set([]byte(op.Key), op.Value, nil)
			written += int64(len(op.Key) + len(op.Value))
			sets++
		} else {
			err = b.Delete([]byte(op.Key), nil)
			deletes++
		}
		if err != nil {
			b.Close()
			return fmt.Errorf("pebble storage: %w", err)
		}
	}
	if b == nil {
		return nil
	}
	defer b.Close()
	if sets > 0 && !c.space.admit(written) {
		adds, err := c.addsKey(ops)
		if err != nil {
			return err
		}
		if adds {
			c.reclaim.run(true)
			return fmt.Errorf("%w: no room left in %s beyond the %d bytes held back for draining the queue", storage.ErrStorageFull, c.dir, c.space.size)
		}
	}
	if err := b.Commit(c.write); err != nil {
		return fmt.Errorf("pebble storage: %w", err)
	}
	if deletes > 0 {
		c.reclaim.deleted(ops)
	}
	return nil
}

// lookup returns key's value as the batch so far left it.
func (c *client) lookup(key string, before []*storage.Operation) ([]byte, error) {
	for i := len(before) - 1; i >= 0; i-- {
		op := before[i]
		if op.Key != key {
			continue
		}
		switch op.Type {
		case storage.Set:
			return append(make([]byte, 0, len(op.Value)), op.Value...), nil
		case storage.Delete:
			return nil, nil
		}
	}
	value, closer, err := c.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pebble storage: get %q: %w", key, err)
	}
	defer closer.Close()
	return append(make([]byte, 0, len(value)), value...), nil
}

// addsKey tells whether the batch sets a key the store does not hold.
func (c *client) addsKey(ops []*storage.Operation) (bool, error) {
	for i, op := range ops {
		if op.Type != storage.Set {
			continue
		}
		value, err := c.lookup(op.Key, ops[:i])
		if err != nil {
			return false, err
		}
		if value == nil {
			return true, nil
		}
	}
	return false, nil
}

// Close implements storage.Client.
func (c *client) Close(context.Context) error {
	err := c.close()
	if c.onClose != nil {
		c.onClose()
	}
	return err
}

func (c *client) close() error {
	c.reclaim.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("pebble storage: close %s: %w", c.dir, err)
	}
	return nil
}

// diskUsage is the bytes of the store's files, while it is open.
func (c *client) diskUsage() (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return 0, false
	}
	return int64(c.db.Metrics().DiskSpaceUsage()), true
}

// pebbleLogger passes Pebble's messages to the collector's log.
type pebbleLogger struct {
	logger *zap.SugaredLogger
	fatal  func(msg string)
}

func (l pebbleLogger) Infof(format string, args ...any)  { l.logger.Debugf(format, args...) }
func (l pebbleLogger) Errorf(format string, args ...any) { l.logger.Errorf(format, args...) }
func (l pebbleLogger) Fatalf(format string, args ...any) { l.fatal(fmt.Sprintf(format, args...)) }
