// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package auth0loginreceiver receives Auth0 sign-in activity over HTTP: the
// batches an Auth0 custom webhook log stream posts, and the events the
// otelcol-auth0 post-login Action posts. Each Auth0 event becomes one log
// record; see README.md for the endpoints, status codes and configuration.
package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"
