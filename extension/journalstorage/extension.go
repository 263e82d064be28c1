// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage/internal/metadata"
)

type journalStorage struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	mu sync.Mutex
	// clients are the journals open now, with the kind of component that
	// opened each.
	clients map[*journal]component.Kind
}

var _ storage.Extension = (*journalStorage)(nil)

func newExtension(cfg *Config, set extension.Settings) (*journalStorage, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	s := &journalStorage{cfg: cfg, logger: set.Logger, telemetry: telemetry, clients: map[*journal]component.Kind{}}
	if err := registerJournalGauges(telemetry, s); err != nil {
		telemetry.Shutdown()
		return nil, err
	}
	return s, nil
}

func (s *journalStorage) Start(context.Context, component.Host) error {
	if !s.cfg.CreateDirectory {
		return nil
	}
	perm, err := s.cfg.permissions()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.Directory, perm); err != nil {
		return fmt.Errorf("journal storage: create %s: %w", s.cfg.Directory, err)
	}
	return nil
}

// Shutdown closes the clients their components left open.
func (s *journalStorage) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for j := range s.clients {
		errs = append(errs, j.Close(ctx))
	}
	clear(s.clients)
	s.telemetry.Shutdown()
	return errors.Join(errs...)
}

// GetClient opens the journal of one component, in a directory named
// after it as file_storage names its files.
func (s *journalStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	clientName := fmt.Sprintf("%s_%s_%s", strings.ToLower(kind.String()), id.Type(), id.Name())
	if name != "" {
		clientName += "_" + name
	}
	dir := filepath.Join(s.cfg.Directory, sanitize(clientName))
	perm, err := s.cfg.permissions()
	if err != nil {
		return nil, err
	}
	opts := options{
		fsync: s.cfg.Fsync, segmentSize: int64(s.cfg.SegmentSizeMiB) << 20,
		telemetry: newJournalTelemetry(s.telemetry, filepath.Base(dir)),
	}
	logger := s.logger.With(zap.String("journal", dir))
	if err := os.MkdirAll(dir, perm); err != nil {
		return nil, fmt.Errorf("journal storage: %w", err)
	}
	j, err := openJournal(dir, opts, logger)
	if err != nil {
		return nil, err
	}
	st := j.stats()
	s.logger.Info("Journal opened", zap.String("directory", dir), zap.Int("segments", st.segments),
		zap.Int("keys", st.keys), zap.Int64("bytes", st.bytes), zap.Int64("live_bytes", st.live))
	s.mu.Lock()
	s.clients[j] = kind
	s.mu.Unlock()
	return &client{journal: j, owner: s}, nil
}

// QueuedItems is the number of items the exporters' persistent queues
// hold in this storage now, over the journals that exporters have open: an
// item counts from the write that queued it until the exporter deletes it
// once sent. The queues' metadata is not counted, nor any other
// component's keys.
func (s *journalStorage) QueuedItems() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for j, kind := range s.clients {
		if kind == component.KindExporter {
			n += j.queuedItems()
		}
	}
	return n
}

// client forgets its journal in the extension when its component closes it.
type client struct {
	*journal
	owner *journalStorage
}

func (c *client) Close(ctx context.Context) error {
	c.owner.mu.Lock()
	delete(c.owner.clients, c.journal)
	c.owner.mu.Unlock()
	return c.journal.Close(ctx)
}

// sanitize keeps a component name (which may hold any character after its
// type's slash) to characters safe in a file name; '~' escapes the rest
// as their code point, so two names never collide.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "~%04X", r)
	}
	return b.String()
}
