// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package auth0event is the one place that knows Auth0's payloads: the log
// stream's content formats, the post-login Action's payload schema, the event
// type codes, and how an event becomes an OTel log record (its body,
// timestamps, severity and attributes). The receiver writes records with it
// and the signup processor reads them back with View, so the two cannot drift.
// It reads the JSON within bounds that hostile bodies cannot exceed: the
// tokens of go-json-experiment's jsontext go straight into pdata, in one
// pass (jsonreader.go), and jsonerror.go says what was wrong and where.
package auth0event // import "github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
