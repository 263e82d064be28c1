// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package journalstorage is a storage extension for the exporters'
// persistent sending queue: an append-only journal of segment files with
// one fsync per group of concurrent writes, where file_storage's B+tree
// rewrites every queued item that shares a page with the one written.
// See README.md.
package journalstorage // import "github.com/otelcol-auth0/otelcol-auth0/extension/journalstorage"
