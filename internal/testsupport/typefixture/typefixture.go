// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Package typefixture makes an Auth0 log stream batch with one record of
// every type code the collector knows. It is apart from auth0test, which
// internal/auth0event's own tests import, because it reads the type codes
// from internal/auth0event.
package typefixture // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/typefixture"

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// Batch is an Auth0 log stream batch (JSONLINES) with one record of
// every type code the collector knows, in code order, in the shape Auth0
// gives that kind of event: a user, client, IP and connection; an error for
// failures; a client and an audience, but no user, for client-credentials
// exchanges. The same bytes every time: splunk's golden HEC events of the
// type codes are made from it, in process and by the built binary.
func Batch() []byte {
	types := auth0event.KnownTypes()
	codes := slices.Sorted(maps.Keys(types))
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var out []byte
	for i, code := range codes {
		logID := fmt.Sprintf("900202611220800%035d", i+1)
		rec := map[string]any{
			"date": start.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000Z"), "type": code,
			"description": "", "client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "client_name": "Storefront",
			"ip": "198.51.100.77", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
			"user_id": "auth0|6a7b8c9d0e1f2a3b4c5d6e7f", "user_name": "casey@example.com",
			"connection": "Username-Password-Authentication", "connection_id": "con_9fGkXw2Lq7TzY1aB",
			"strategy": "auth0", "strategy_type": "database", "hostname": "acme.eu.auth0.com", "tenant_name": "acme",
			"details": map[string]any{"stats": map[string]any{"loginsCount": 12}}, "log_id": logID,
		}
		switch types[code].Kind {
		case auth0event.KindFailure:
			rec["description"] = "Wrong email or password."
			rec["details"] = map[string]any{"error": map[string]any{"message": "Wrong email or password."}}
		case auth0event.KindSecurity:
			rec["description"] = types[code].Name
		}
		if code == "seccft" || code == "feccft" {
			for _, k := range []string{"user_id", "user_name", "connection", "connection_id", "strategy", "strategy_type"} {
				delete(rec, k)
			}
			rec["audience"] = "https://acme.eu.auth0.com/api/v2/"
			rec["scope"] = "read:users update:users"
		}
		line, err := json.Marshal(map[string]any{"log_id": logID, "data": rec})
		if err != nil {
			panic(err)
		}
		out = append(append(out, line...), '\n')
	}
	return out
}
