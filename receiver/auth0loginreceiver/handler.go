// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver // import "github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
	"github.com/otelcol-auth0/otelcol-auth0/internal/dedupe"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadata"
)

// endpointKind tells the ways in apart in metrics and obsreport.
type endpointKind int

const (
	endpointLogs endpointKind = iota
	endpointActions
	// endpointPoll is pull mode: pages of the Management API's log API.
	endpointPoll
)

func (e endpointKind) String() string {
	switch e {
	case endpointActions:
		return "actions"
	case endpointPoll:
		return "poll"
	default:
		return "logs"
	}
}

// obsreportFormat names the payload format in the receiver's standard
// accepted/refused metrics and spans.
func (e endpointKind) obsreportFormat() string {
	switch e {
	case endpointActions:
		return "auth0_action"
	case endpointPoll:
		return "auth0_log_api"
	default:
		return "auth0_log_stream"
	}
}

// Reasons a request is refused before any record is delivered.
const (
	reasonUnauthorized    = "unauthorized"
	reasonMethod          = "method"
	reasonContentType     = "content_type"
	reasonContentEncoding = "content_encoding"
	reasonTooLarge        = "too_large"
	reasonTooManyRecords  = "too_many_records"
	reasonEmpty           = "empty"
	reasonReadError       = "read_error"
	reasonBusy            = "busy"
	reasonShuttingDown    = "shutting_down"
)

// requestHandler parses a body and answers; it returns nothing, every
// answer is written to w.
type requestHandler func(ctx context.Context, w http.ResponseWriter, body []byte)

// endpoint wraps a handler with what both endpoints share: obsreport,
// authentication, the method, the content type and coding, and reading the
// body within the request's limits and the receiver's admission. Nothing
// of the body is read, and no decoder made, before the request is
// authenticated (by the secret here, or by the auth extension, which
// confighttp runs before this handler).
func (r *auth0Receiver) endpoint(ep endpointKind, handle requestHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := r.obsrecv.StartLogsOp(req.Context())
		if !r.authorized(ctx, ep, req) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="auth0login"`)
			r.refuse(ctx, w, ep, http.StatusUnauthorized, reasonUnauthorized,
				"missing or wrong Authorization header: send the configured secret (or, while rotating, one of previous_secrets), as is or as \"Bearer <secret>\"")
			return
		}
		if !r.gate.enter() {
			// Connection: close sends the sender's retry over a new
			// connection, which may reach another instance.
			w.Header().Set("Retry-After", r.retryAfter())
			w.Header().Set("Connection", "close")
			r.refuse(ctx, w, ep, http.StatusServiceUnavailable, reasonShuttingDown, shuttingDownMessage)
			return
		}
		defer r.gate.leave()
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			r.refuse(ctx, w, ep, http.StatusMethodNotAllowed, reasonMethod,
				fmt.Sprintf("method %s is not allowed: POST the Auth0 events", req.Method))
			return
		}
		if ct := req.Header.Get("Content-Type"); !acceptedContentType(ct) {
			r.refuse(ctx, w, ep, http.StatusUnsupportedMediaType, reasonContentType,
				fmt.Sprintf("unsupported Content-Type %q: send application/json (a JSON object, a JSON array, or JSON lines)", truncate(ct, 64)))
			return
		}
		coding, codec, err := r.codings.of(req.Header)
		if err != nil {
			r.refuse(ctx, w, ep, http.StatusUnsupportedMediaType, reasonContentEncoding, err.Error())
			return
		}
		if req.ContentLength > r.maxBody {
			r.refuse(ctx, w, ep, http.StatusRequestEntityTooLarge, reasonTooLarge, tooLargeMessage(errBodyTooLarge, r.maxBody))
			return
		}

		t := r.admission.ticket(req.Context())
		defer t.release()
		body, err := readBody(req, coding, codec, r.maxBody, t)
		defer putBodyBuffer(body)
		if err == nil {
			// Parsing builds records from the body: reserve what they may
			// take before building them, then one of the decoding slots.
			if err = t.reserve(parseCost(len(body), r.recordBound(ep, body))); err == nil {
				err = t.takeSlot()
			}
		}
		if err != nil {
			r.refuseBody(ctx, w, ep, err)
			return
		}
		handle(ctx, w, body)
	})
}

// refuseBody answers a request whose body could not be read, decoded or
// admitted.
func (r *auth0Receiver) refuseBody(ctx context.Context, w http.ResponseWriter, ep endpointKind, err error) {
	var decodeErr *decodeError
	switch {
	case errors.Is(err, errBodyTooLarge), errors.Is(err, errZstdWindow):
		r.refuse(ctx, w, ep, http.StatusRequestEntityTooLarge, reasonTooLarge, tooLargeMessage(err, r.maxBody))
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", r.retryAfter())
		r.refuse(ctx, w, ep, http.StatusServiceUnavailable, reasonBusy, r.busyMessage())
	case errors.As(err, &decodeErr):
		r.refuse(ctx, w, ep, http.StatusBadRequest, reasonReadError, decodeErr.Error())
	default:
		// errBeyondAdmission, which Validate rules out.
		r.refuse(ctx, w, ep, http.StatusRequestEntityTooLarge, reasonTooLarge, err.Error())
	}
}

// recordBound is the most records a body can make: one Action payload, or
// at most one log record per '{' and at most max_request_records.
func (r *auth0Receiver) recordBound(ep endpointKind, body []byte) int {
	if ep == endpointActions {
		return 1
	}
	return min(bytes.Count(body, []byte{'{'}), r.cfg.MaxRequestRecords)
}

// retryAfter is the Retry-After of the receiver's 503s, in whole seconds.
func (r *auth0Receiver) retryAfter() string {
	return strconv.Itoa(int(r.cfg.RetryAfter.Seconds()))
}

func (r *auth0Receiver) busyMessage() string {
	return fmt.Sprintf("the collector is busy with other requests (at most %d decoded at once, within admission_memory_mib of %d MiB), retry later",
		r.cfg.MaxConcurrentRequests, r.cfg.AdmissionMemoryMiB)
}

// authorized checks the request's secret and counts which one it carried,
// so that operators see when a previous secret is no longer used.
func (r *auth0Receiver) authorized(ctx context.Context, ep endpointKind, req *http.Request) bool {
	if r.secret == nil {
		// Unauthenticated by choice, or left to the confighttp auth
		// extension, which ran before this handler.
		return true
	}
	i := r.secret.match(req.Header.Get("Authorization"))
	if i < 0 {
		return false
	}
	which := "current"
	if i > 0 {
		which = "previous"
	}
	r.telemetry.ReceiverAuth0loginRequestsAuthenticated.Add(ctx, 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", ep.String()), attribute.String("secret", which))))
	return true
}

// acceptedContentType accepts what an Auth0 log stream or an HTTP client may
// send for JSON: the stream's Content Type setting is free text.
func acceptedContentType(header string) bool {
	mediaType, _, _ := strings.Cut(header, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	switch mediaType {
	case "", "application/json", "text/json", "text/plain",
		"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
		"application/jsonlines", "application/x-jsonlines", "application/json-lines":
		return true
	}
	return strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}

// handleLogStream delivers an Auth0 log stream batch.
func (r *auth0Receiver) handleLogStream(ctx context.Context, w http.ResponseWriter, body []byte) {
	batch := r.newBatch(endpointLogs)
	out, err := auth0event.ReadLogStream(body, r.limits, func(rec pcommon.Map, h auth0event.Header) {
		if batch.admit(h) {
			auth0event.MapLogEvent(rec, h, auth0event.SourceLogStream, batch.observed, batch.records.AppendEmpty())
		}
	})
	var tooMany *auth0event.TooManyRecordsError
	switch {
	case errors.As(err, &tooMany):
		r.refuse(ctx, w, endpointLogs, http.StatusRequestEntityTooLarge, reasonTooManyRecords,
			fmt.Sprintf("the request holds more than max_request_records (%d) records: send smaller batches", tooMany.Max))
		return
	case err != nil:
		r.refuse(ctx, w, endpointLogs, http.StatusBadRequest, reasonEmpty, err.Error())
		return
	}
	batch.rejected, batch.errors = out.Rejected, out.Errors
	r.deliver(ctx, w, batch)
}

// handleAction delivers one post-login Action payload.
func (r *auth0Receiver) handleAction(ctx context.Context, w http.ResponseWriter, body []byte) {
	batch := r.newBatch(endpointActions)
	payload, h, err := auth0event.ParseAction(body, r.limits)
	if err != nil {
		batch.rejected = 1
		batch.errors = []auth0event.RecordError{{Record: 1, Line: 1, Msg: err.Error()}}
		r.deliver(ctx, w, batch)
		return
	}
	if batch.admit(h) {
		auth0event.MapAction(payload, h, batch.observed, batch.records.AppendEmpty())
	}
	r.deliver(ctx, w, batch)
}

// handlePage delivers a page of Auth0's log API (pull mode) and returns
// the date of its newest delivered event. A record that cannot be read is
// skipped and logged: there is no sender to answer.
func (r *auth0Receiver) handlePage(ctx context.Context, page []json.RawMessage) (time.Time, error) {
	ctx = r.obspoll.StartLogsOp(ctx)
	b := r.newBatch(endpointPoll)
	var newest pcommon.Timestamp
	for _, raw := range page {
		out, _ := auth0event.ReadLogStream(raw, r.limits, func(rec pcommon.Map, h auth0event.Header) {
			if b.admit(h) {
				lr := b.records.AppendEmpty()
				auth0event.MapLogEvent(rec, h, auth0event.SourceLogAPI, b.observed, lr)
				newest = max(newest, lr.Timestamp())
			}
		})
		b.rejected += out.Rejected
		if len(b.errors) < auth0event.MaxListedErrors {
			b.errors = append(b.errors, out.Errors...)
		}
	}
	if b.rejected > 0 {
		r.settings.Logger.Warn("Auth0's log API returned records that could not be read; they are skipped",
			zap.String("mode", "poll"), zap.Int("records", b.rejected), zap.String("first_error", b.errors[0].Msg))
	}
	err := r.consume(ctx, b)
	if newest == 0 {
		return time.Time{}, err
	}
	return newest.AsTime(), err
}

// batch collects the records of one request (or polled page) and what
// happened to the others.
type batch struct {
	endpoint endpointKind
	obs      *receiverhelper.ObsReport
	logs     plog.Logs
	records  plog.LogRecordSlice
	observed pcommon.Timestamp

	filter typeFilter
	seen   dedupeView
	types  map[string]int

	// accepted is how many records went to the pipeline, counted before
	// a group commit moved them out of records.
	accepted   int
	duplicates int
	filtered   int
	// rejected counts the malformed records, errors describes the first
	// auth0event.MaxListedErrors of them.
	rejected int
	errors   []auth0event.RecordError
}

// newLogs is the container of a request's (or a commit group's) records:
// one resource, one scope naming the receiver.
func (r *auth0Receiver) newLogs() (plog.Logs, plog.LogRecordSlice) {
	logs := plog.NewLogs()
	scope := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	scope.Scope().SetName(metadata.ScopeName)
	scope.Scope().SetVersion(r.settings.BuildInfo.Version)
	return logs, scope.LogRecords()
}

func (r *auth0Receiver) newBatch(ep endpointKind) *batch {
	logs, records := r.newLogs()
	obs := r.obsrecv
	if ep == endpointPoll {
		obs = r.obspoll
	}
	return &batch{
		endpoint: ep,
		obs:      obs,
		logs:     logs,
		records:  records,
		observed: pcommon.NewTimestampFromTime(time.Now()),
		filter:   r.filter,
		seen:     dedupeView{window: r.seen},
		types:    make(map[string]int, 4),
	}
}

// admit decides whether a record goes on: not filtered out by type, and not
// already delivered (earlier, or earlier in this same request).
func (b *batch) admit(h auth0event.Header) bool {
	if !b.filter.keep(h.Type) {
		b.filtered++
		return false
	}
	if b.seen.duplicate(h.ID) {
		b.duplicates++
		return false
	}
	b.types[h.Type]++
	return true
}

// consume hands the batch to the next consumer, with obsreport and the
// receiver's metrics. Only an accepted batch is remembered for dedupe: a
// refused one will be sent again (by Auth0, or the poller) and must not then
// be dropped as a duplicate.
func (r *auth0Receiver) consume(ctx context.Context, b *batch) error {
	format := b.endpoint.obsreportFormat()
	accepted := b.records.Len()
	b.accepted = accepted
	r.countDropped(ctx, b)
	if accepted == 0 {
		b.obs.EndLogsOp(ctx, format, 0, nil)
		return nil
	}
	var err error
	if r.commits != nil {
		err = r.commits.Commit(ctx, b.records)
	} else {
		err = r.next.ConsumeLogs(ctx, b.logs)
	}
	b.obs.EndLogsOp(ctx, format, accepted, err)
	if err != nil {
		return err
	}
	b.seen.commit()
	r.countAccepted(ctx, b)
	return nil
}

// deliver consumes the batch and answers the sender.
func (r *auth0Receiver) deliver(ctx context.Context, w http.ResponseWriter, b *batch) {
	err := r.consume(ctx, b)
	switch {
	case err == nil && b.accepted == 0 && b.rejected > 0:
		writeSummary(w, http.StatusBadRequest, b)
	case err == nil:
		writeSummary(w, http.StatusOK, b)
	case consumererror.IsPermanent(err):
		writeError(w, http.StatusBadRequest, "the collector's pipeline refused the records permanently: "+err.Error())
	default:
		w.Header().Set("Retry-After", r.retryAfter())
		writeError(w, http.StatusServiceUnavailable, "the collector cannot take the records right now, retry later: "+err.Error())
	}
}

// dedupeView checks ids against the receiver's window and those already
// admitted in this request; commit adds the request's ids to the window.
type dedupeView struct {
	window *dedupe.Window
	hashes []uint64
	// index replaces the scan of hashes once a request is large.
	index map[uint64]struct{}
}

const scanLimit = 64

func (d *dedupeView) duplicate(id string) bool {
	if d.window == nil || id == "" {
		return false
	}
	h := d.window.Hash(id)
	if d.index != nil {
		if _, ok := d.index[h]; ok {
			return true
		}
	} else {
		for _, seen := range d.hashes {
			if seen == h {
				return true
			}
		}
	}
	if d.window.Contains(h) {
		return true
	}
	d.hashes = append(d.hashes, h)
	switch {
	case d.index != nil:
		d.index[h] = struct{}{}
	case len(d.hashes) > scanLimit:
		d.index = make(map[uint64]struct{}, 2*len(d.hashes))
		for _, seen := range d.hashes {
			d.index[seen] = struct{}{}
		}
	}
	return false
}

func (d *dedupeView) commit() {
	if d.window != nil {
		d.window.Add(d.hashes...)
	}
}
