// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package childproc

import (
	"errors"
	"fmt"
)

// errNoPeak says why: the peak resident set comes from /proc (Linux).
var errNoPeak = fmt.Errorf("peak resident set size: %w on this system", errors.ErrUnsupported)

func peakRSS(int) (int64, error) { return 0, errNoPeak }

// ResetPeak is Linux-only.
func ResetPeak(int) error { return errNoPeak }
