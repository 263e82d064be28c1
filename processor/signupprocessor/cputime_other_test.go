// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package signupprocessor

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
