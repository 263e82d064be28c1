// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build race

package auth0loginreceiver

// raceEnabled tells the tests that measure memory that the race detector
// runs: sync.Pool then drops items at random, and allocations cost more.
const raceEnabled = true
