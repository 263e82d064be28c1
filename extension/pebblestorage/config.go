package pebblestorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/pebblestorage"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// Config configures the pebble storage extension.
type Config struct {
	// Directory holds one subdirectory per client (each component that
	// asks for storage).
	Directory string `mapstructure:"directory"`
	// CreateDirectory creates Directory when it is missing, with
	// DirectoryPermissions.
	CreateDirectory      bool   `mapstructure:"create_directory"`
	DirectoryPermissions string `mapstructure:"directory_permissions"`
	// Fsync makes every write durable before it returns: what a receiver
	// acknowledged survives a power loss, not only a crash of the process.
	Fsync bool `mapstructure:"fsync"`
	// MemTableSizeMiB is the size of the memtable, the in-memory part of
	// the store that a value deleted before it fills never leaves.
	MemTableSizeMiB int `mapstructure:"memtable_size_mib"`
	// ReserveMiB is disk space held back for draining: once the rest is
	// used, new keys are refused while reads and deletions go on.
	ReserveMiB int `mapstructure:"reserve_mib"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	maxMemTableSizeMiB = 1024
	maxReserveMiB      = 64 << 10
)

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
	if cfg.MemTableSizeMiB < 1 || cfg.MemTableSizeMiB > maxMemTableSizeMiB {
		errs = append(errs, fmt.Errorf("memtable_size_mib must be between 1 and %d, got %d", maxMemTableSizeMiB, cfg.MemTableSizeMiB))
	}
	if cfg.ReserveMiB < 0 || cfg.ReserveMiB > maxReserveMiB {
		errs = append(errs, fmt.Errorf("reserve_mib must be between 0 and %d, got %d", maxReserveMiB, cfg.ReserveMiB))
	} else if cfg.ReserveMiB > 0 && cfg.ReserveMiB < cfg.MemTableSizeMiB {
		errs = append(errs, fmt.Errorf("reserve_mib (%d) must be at least memtable_size_mib (%d): draining a full disk flushes a memtable into it", cfg.ReserveMiB, cfg.MemTableSizeMiB))
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
