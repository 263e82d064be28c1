// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0test // import "github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
)

// seq makes generated ids unique within a process, in increasing order
// (Auth0 log ids sort by time).
var seq atomic.Int64

func nextID() int64 { return time.Now().UnixNano() + seq.Add(1) }

// Event describes one Auth0 log event to generate; zero fields get
// realistic defaults, so that a test states only what matters to it.
type Event struct {
	LogID       string
	Type        string
	UserID      string
	UserName    string
	ClientName  string
	IP          string
	Date        time.Time
	LoginsCount int // 0: no details.stats
	Protocol    string
}

func (e Event) withDefaults() Event {
	if e.Type == "" {
		e.Type = "s"
	}
	if e.LogID == "" {
		e.LogID = fmt.Sprintf("90020261120%039d", nextID())
	}
	if e.UserID == "" {
		e.UserID = "auth0|6182f1a9c3d4e5f60718293a"
	}
	if e.UserName == "" {
		e.UserName = "ana@example.com"
	}
	if e.ClientName == "" {
		e.ClientName = "Storefront"
	}
	if e.IP == "" {
		e.IP = "203.0.113.7"
	}
	if e.Date.IsZero() {
		e.Date = time.Date(2026, 11, 20, 8, 13, 25, 118e6, time.UTC)
	}
	return e
}

// Data is the bare log event, as GET /api/v2/logs returns it.
func (e Event) Data() map[string]any {
	e = e.withDefaults()
	data := map[string]any{
		"date":          e.Date.Format("2006-01-02T15:04:05.000Z"),
		"type":          e.Type,
		"description":   "",
		"connection":    "Username-Password-Authentication",
		"connection_id": "con_9fGkXw2Lq7TzY1aB",
		"client_id":     "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB",
		"client_name":   e.ClientName,
		"ip":            e.IP,
		"user_agent":    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"hostname":      "acme.eu.auth0.com",
		"user_id":       e.UserID,
		"user_name":     e.UserName,
		"strategy":      "auth0",
		"strategy_type": "database",
		"tenant_name":   "acme",
		"$event_schema": map[string]any{"version": "1.0.0"},
		"log_id":        e.LogID,
	}
	details := map[string]any{
		"initiatedAt": 1763626404600,
		"completedAt": 1763626405110,
		"elapsedTime": 510,
		"session_id":  "k3Yz8Qp1RtW6vN0mXc2Lb4Ja",
		"prompts": []any{map[string]any{
			"name":          "prompt-authenticate",
			"completedAt":   1763626405100,
			"connection":    "Username-Password-Authentication",
			"connection_id": "con_9fGkXw2Lq7TzY1aB",
			"strategy":      "auth0",
			"identity":      "6182f1a9c3d4e5f60718293a",
			"elapsedTime":   421,
		}},
	}
	if e.LoginsCount > 0 {
		details["stats"] = map[string]any{"loginsCount": e.LoginsCount}
	}
	data["details"] = details
	if e.Protocol != "" {
		data["protocol"] = e.Protocol
	}
	return data
}

// Record is the event in a log stream's shape: {"log_id", "data"}.
func (e Event) Record() map[string]any {
	e = e.withDefaults()
	return map[string]any{"log_id": e.LogID, "data": e.Data()}
}

// JSON is the log stream record as one JSON line.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e.Record())
	if err != nil {
		panic(err)
	}
	return b
}

// Lines joins events into a JSON lines log stream batch.
func Lines(events ...Event) []byte {
	var out []byte
	for _, e := range events {
		out = append(out, e.JSON()...)
		out = append(out, '\n')
	}
	return out
}

// ActionEvent describes one post-login Action payload to generate.
type ActionEvent struct {
	EventID     string
	UserID      string
	UserName    string
	ClientName  string
	IP          string
	Protocol    string
	LoginsCount int
	// AppMetadata is sent as user.app_metadata when not nil.
	AppMetadata map[string]any
}

// JSON is the Action payload, schema version 1.
func (a ActionEvent) JSON() []byte {
	if a.EventID == "" {
		a.EventID = fmt.Sprintf("evt-%d", nextID())
	}
	if a.UserID == "" {
		a.UserID = "auth0|6182f1a9c3d4e5f60718293a"
	}
	if a.UserName == "" {
		a.UserName = "ana@example.com"
	}
	if a.ClientName == "" {
		a.ClientName = "Storefront"
	}
	if a.IP == "" {
		a.IP = "203.0.113.7"
	}
	if a.Protocol == "" {
		a.Protocol = "oidc-basic-profile"
	}
	user := map[string]any{"user_id": a.UserID, "name": a.UserName, "email": a.UserName}
	if a.AppMetadata != nil {
		user["app_metadata"] = a.AppMetadata
	}
	payload := map[string]any{
		"schema_version": 1,
		"event_id":       a.EventID,
		"timestamp":      "2026-11-20T08:13:25.120Z",
		"user":           user,
		"client":         map[string]any{"client_id": "aI61p8I8aFjmYRliLWgvM9ev97kCCNDB", "name": a.ClientName},
		"connection":     map[string]any{"id": "con_9fGkXw2Lq7TzY1aB", "name": "Username-Password-Authentication", "strategy": "auth0"},
		"request":        map[string]any{"ip": a.IP, "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "hostname": "acme.eu.auth0.com"},
		"transaction":    map[string]any{"protocol": a.Protocol},
		"tenant":         map[string]any{"id": "acme"},
	}
	if a.LoginsCount > 0 {
		payload["stats"] = map[string]any{"logins_count": a.LoginsCount}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	return b
}
