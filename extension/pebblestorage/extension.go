package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

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

	"github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage/internal/metadata"
)

type pebbleStorage struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	mu      sync.Mutex
	clients map[*client]struct{}
}

var _ storage.Extension = (*pebbleStorage)(nil)

func newExtension(cfg *Config, set extension.Settings) (*pebbleStorage, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	s := &pebbleStorage{cfg: cfg, logger: set.Logger, telemetry: telemetry, clients: map[*client]struct{}{}}
	if err := registerGauges(telemetry, s); err != nil {
		telemetry.Shutdown()
		return nil, err
	}
	return s, nil
}

func (s *pebbleStorage) Start(context.Context, component.Host) error {
	if !s.cfg.CreateDirectory {
		return nil
	}
	perm, err := s.cfg.permissions()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.Directory, perm); err != nil {
		return fmt.Errorf("pebble storage: create %s: %w", s.cfg.Directory, err)
	}
	return nil
}

// Shutdown closes the clients their components left open.
func (s *pebbleStorage) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for c := range s.clients {
		errs = append(errs, c.close())
	}
	clear(s.clients)
	s.telemetry.Shutdown()
	return errors.Join(errs...)
}

// GetClient opens the store of one component, in a directory named after
// it as file_storage names its files.
func (s *pebbleStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	clientName := fmt.Sprintf("%s_%s_%s", strings.ToLower(kind.String()), id.Type(), id.Name())
	if name != "" {
		clientName += "_" + name
	}
	dir := filepath.Join(s.cfg.Directory, sanitize(clientName))
	perm, err := s.cfg.permissions()
	if err != nil {
		return nil, err
	}
	c, err := openClient(dir, perm, clientOptions{
		fsync:        s.cfg.Fsync,
		memTableSize: int64(s.cfg.MemTableSizeMiB) << 20,
		reserve:      int64(s.cfg.ReserveMiB) << 20,
		telemetry:    newClientTelemetry(s.telemetry, filepath.Base(dir)),
	}, s.logger.With(zap.String("store", dir)))
	if err != nil {
		return nil, err
	}
	c.onClose = func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	return c, nil
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
