// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// summary is the JSON body of every answer that read the records.
type summary struct {
	Accepted   int                      `json:"accepted"`
	Duplicates int                      `json:"duplicates"`
	Filtered   int                      `json:"filtered"`
	Rejected   int                      `json:"rejected"`
	Errors     []auth0event.RecordError `json:"errors,omitempty"`
}

type errorBody struct {
	Error string `json:"error"`
}

func writeSummary(w http.ResponseWriter, status int, b *batch) {
	s := summary{
		Accepted:   b.accepted,
		Duplicates: b.duplicates,
		Filtered:   b.filtered,
		Rejected:   b.rejected,
		Errors:     b.errors,
	}
	writeJSON(w, status, s)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// refuse answers a request that was refused before its records were read,
// and counts it.
func (r *auth0Receiver) refuse(ctx context.Context, w http.ResponseWriter, ep endpointKind, status int, reason, msg string) {
	r.telemetry.ReceiverAuth0loginRequestsRejected.Add(ctx, 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", ep.String()), attribute.String("reason", reason))))
	r.obsrecv.EndLogsOp(ctx, ep.obsreportFormat(), 0, errors.New(reason))
	writeError(w, status, msg)
}

// writeServerError answers, in the receiver's own format, for what
// confighttp refuses before the endpoints run: a request the auth
// extension refused.
func (r *auth0Receiver) writeServerError(w http.ResponseWriter, req *http.Request, msg string, status int) {
	if status == http.StatusUnauthorized {
		ep := endpointLogs
		if req.URL.Path == r.cfg.ActionsPath {
			ep = endpointActions
		}
		r.telemetry.ReceiverAuth0loginRequestsRejected.Add(req.Context(), 1,
			metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", ep.String()), attribute.String("reason", reasonUnauthorized))))
	}
	writeError(w, status, msg)
}

func (r *auth0Receiver) countDropped(ctx context.Context, b *batch) {
	attrs := endpointAttrs(b.endpoint)
	if b.duplicates > 0 {
		r.telemetry.ReceiverAuth0loginRecordsDuplicate.Add(ctx, int64(b.duplicates), attrs)
	}
	if b.filtered > 0 {
		r.telemetry.ReceiverAuth0loginRecordsFiltered.Add(ctx, int64(b.filtered), attrs)
	}
	if b.rejected > 0 {
		r.telemetry.ReceiverAuth0loginRecordsMalformed.Add(ctx, int64(b.rejected), attrs)
	}
}

func (r *auth0Receiver) countAccepted(ctx context.Context, b *batch) {
	for code, n := range b.types {
		r.telemetry.ReceiverAuth0loginRecords.Add(ctx, int64(n), typeAttrs(b.endpoint, code))
	}
}

var (
	endpointAttrSets = [...]metric.MeasurementOption{
		endpointLogs:    metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", "logs"))),
		endpointActions: metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", "actions"))),
		endpointPoll:    metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", "poll"))),
	}
	typeAttrSets sync.Map // typeAttrKey -> metric.MeasurementOption
)

type typeAttrKey struct {
	endpoint endpointKind
	code     string
}

func endpointAttrs(ep endpointKind) metric.MeasurementOption { return endpointAttrSets[ep] }

// typeAttrs builds the endpoint and type attributes once per pair. Codes
// outside the known table count as "unknown" so that whatever a sender
// writes in "type" cannot grow the metric's cardinality.
func typeAttrs(ep endpointKind, code string) metric.MeasurementOption {
	label := code
	if code == "" {
		label = "none"
	} else if _, known := auth0event.LookupType(code); !known {
		label = "unknown"
	}
	key := typeAttrKey{ep, label}
	if opt, ok := typeAttrSets.Load(key); ok {
		return opt.(metric.MeasurementOption)
	}
	opt := metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", ep.String()), attribute.String("auth0_type", label)))
	typeAttrSets.Store(key, opt)
	return opt
}
