// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"

import "os"

func allocate(*os.File, int64, int64) error { return errAllocateUnsupported }

func release(*os.File, int64, int64) error { return errAllocateUnsupported }

func freeSpace(string) (int64, bool) { return 0, false }
