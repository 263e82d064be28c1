// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package storagesuite

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Capture is s with a factory that keeps the last extension it created,
// which last returns: a test can then ask the very extension the
// exporter's queue writes to (StartExporter creates its own).
func Capture(s Storage) (captured Storage, last func() extension.Extension) {
	var mu sync.Mutex
	var ext extension.Extension
	factory := s.Factory
	s.Factory = extension.NewFactory(factory.Type(), factory.CreateDefaultConfig,
		func(ctx context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			e, err := factory.Create(ctx, set, cfg)
			if err == nil {
				mu.Lock()
				ext = e
				mu.Unlock()
			}
			return e, err
		}, factory.Stability())
	return s, func() extension.Extension {
		mu.Lock()
		defer mu.Unlock()
		return ext
	}
}
