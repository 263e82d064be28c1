// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package storagesuite holds tests of a storage extension as the exporters'
// persistent queue uses it, written against storage.Client and the real
// splunk_hec exporter only, so that the same tests run on every storage
// extension: a model of random batches across restarts, SIGKILLs in the
// middle of concurrent batches, the exporter's queue across a restart, and
// a disk that fills under the queue.
package storagesuite // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/storagesuite"

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Storage is a storage extension under test.
type Storage struct {
	Name    string
	Factory extension.Factory
	// Config configures the extension on dir, with every write made
	// durable before it returns.
	Config func(dir string) component.Config
}

// ID is the component ID the exporter's queue is given for the storage.
func (s Storage) ID() component.ID { return component.NewID(s.Factory.Type()) }

// Start creates and starts the extension on dir.
func (s Storage) Start(t testing.TB, dir string) extension.Extension {
	t.Helper()
	cfg := s.Config(dir)
	if v, ok := cfg.(interface{ Validate() error }); ok {
		require.NoError(t, v.Validate())
	}
	ext, err := s.Factory.Create(context.Background(), extensiontest.NewNopSettings(s.Factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext
}

// Open starts the extension on dir and opens the client the splunk_hec
// exporter's logs queue would get; close stops both.
func (s Storage) Open(t testing.TB, dir string) (client storage.Client, stop func()) {
	t.Helper()
	ext := s.Start(t, dir)
	client, err := ext.(storage.Extension).GetClient(context.Background(), component.KindExporter, component.MustNewID("splunk_hec"), "logs")
	require.NoError(t, err)
	return client, func() {
		require.NoError(t, client.Close(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()))
	}
}
