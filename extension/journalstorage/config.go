// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// Config configures the journal storage extension.
type Config struct {
	// Directory holds one subdirectory of segment files per client (each
	// component that asks for storage).
	Directory string `mapstructure:"directory"`
	// CreateDirectory creates Directory when it is missing, with
	// DirectoryPermissions.
	CreateDirectory      bool   `mapstructure:"create_directory"`
	DirectoryPermissions string `mapstructure:"directory_permissions"`
	// Fsync makes every write durable before it returns: what a receiver
	// acknowledged survives a power loss, not only a crash of the process.
	Fsync bool `mapstructure:"fsync"`
	// SegmentSizeMiB is the size at which a new segment file is started;
	// disk space is given back a whole segment at a time.
	SegmentSizeMiB int `mapstructure:"segment_size_mib"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Directory == "" {
		errs = append(errs, errors.New("directory must be set"))
	} else if !cfg.CreateDirectory {
		info, err := os.Stat(cfg.Directory)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("directory %s does not exist (set create_directory: true to create it)", cfg.Directory))
		case err != nil:
			errs = append(errs, fmt.Errorf("directory %s: %w", cfg.Directory, err))
		case !info.IsDir():
			errs = append(errs, fmt.Errorf("directory %s is not a directory", cfg.Directory))
		}
	}
	if _, err := cfg.permissions(); err != nil {
		errs = append(errs, err)
	}
	if cfg.SegmentSizeMiB < 1 || cfg.SegmentSizeMiB > 1024 {
		errs = append(errs, fmt.Errorf("segment_size_mib must be between 1 and 1024, got %d", cfg.SegmentSizeMiB))
	}
	return errors.Join(errs...)
}

func (cfg *Config) permissions() (fs.FileMode, error) {
	perm, err := strconv.ParseUint(cfg.DirectoryPermissions, 8, 32)
	if err != nil || perm > 0o777 {
		return 0, fmt.Errorf("directory_permissions must be octal permission bits such as 0750, got %q", cfg.DirectoryPermissions)
	}
	return fs.FileMode(perm), nil
}
