// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package auth0test holds realistic Auth0 payloads (all values invented) for
// the tests, benchmarks and load generator of every package, so that they
// all exercise the same shapes.
package auth0test // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"

import (
	"embed"
	"path"
)

//go:embed testdata
var samples embed.FS

// Sample payload files.
const (
	// LogStreamLines is a custom webhook batch in JSONLINES format: a signup
	// (ss), the first login of that user (s), a failed login (fp), a refresh
	// token exchange (sertft) and a type code the collector does not know.
	LogStreamLines = "logstream.jsonl"
	// LogStreamArray is the same batch in JSONARRAY format.
	LogStreamArray = "logstream_array.json"
	// LogStreamObject is the batch's login record alone, in JSONOBJECT
	// format, pretty-printed.
	LogStreamObject = "logstream_object.json"
	// LogAPIBare is the batch's first two events as GET /api/v2/logs
	// returns them: bare events, no {log_id, data} envelope.
	LogAPIBare = "logapi_bare.json"
	// Action is a post-login Action payload (schema v1) for the same login.
	Action = "action.json"
)

// Sample returns the content of a sample payload file.
func Sample(name string) []byte {
	b, err := samples.ReadFile(path.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return b
}
