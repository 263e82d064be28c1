// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !race

package auth0loginreceiver

const raceEnabled = false
