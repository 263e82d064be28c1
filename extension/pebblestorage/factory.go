package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage/internal/metadata"
)

// NewFactory creates the pebble storage extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		metadata.Type,
		createDefaultConfig,
		createExtension,
		metadata.ExtensionStability,
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		DirectoryPermissions: "0750",
		Fsync:                true,
		MemTableSizeMiB:      4,
		ReserveMiB:           8,
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
