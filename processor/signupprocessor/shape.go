// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package signupprocessor // import "github.com/otelcol-auth0/otelcol-auth0/processor/signupprocessor"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-auth0/otelcol-auth0/internal/auth0event"
)

// Attributes the splunk_hec exporter reads a record's metadata from.
const (
	attrSplunkSource     = "com.splunk.source"
	attrSplunkSourceType = "com.splunk.sourcetype"
	attrSplunkIndex      = "com.splunk.index"
)

// shapeSplunk sets the Splunk metadata attributes the exporter reads.
func (p *signupProcessor) shapeSplunk(lr plog.LogRecord) {
	attrs := lr.Attributes()
	putIfSet(attrs, attrSplunkSource, p.cfg.Splunk.Source)
	putIfSet(attrs, attrSplunkSourceType, p.cfg.Splunk.SourceType)
	putIfSet(attrs, attrSplunkIndex, p.cfg.Splunk.Index)
}

// shapeTagged records the decision and, in the "rule" body format, turns
// the body into the legacy Rule's HEC event so that existing Splunk
// searches keep working. rule holds the record's values as collect read
// them.
func (p *signupProcessor) shapeTagged(lr plog.LogRecord, d decision, rule ruleFields) {
	p.shapeSplunk(lr)
	attrs := lr.Attributes()
	attrs.PutStr(p.cfg.Attribute, d.event)
	attrs.PutStr(auth0event.AttrEventBasis, d.basis)
	if p.cfg.BodyFormat == BodyFormatRule {
		setRuleBody(lr.Body(), rule.set(p.cfg.Attribute, d.event), d.event)
	}
}

// ruleFields are the record's attributes the Rule's event object repeats.
type ruleFields struct{ application, clientIP, protocol, userName, userID string }

// set returns the fields as they are once the attribute key holds value:
// the decision's attribute may be configured to be one of them.
func (r ruleFields) set(key, value string) ruleFields {
	switch key {
	case auth0event.AttrClientName:
		r.application = value
	case auth0event.AttrClientAddress:
		r.clientIP = value
	case auth0event.AttrProtocol:
		r.protocol = value
	case auth0event.AttrUserName:
		r.userName = value
	case auth0event.AttrUserID:
		r.userID = value
	}
	return r
}

// setRuleBody writes the Rule's event object:
//
//	{message, application, clientIP, protocol, userName, userId}
//
// A field the record does not know is left out, not invented.
func setRuleBody(body pcommon.Value, r ruleFields, event string) {
	fields := [...]struct{ key, value string }{
		{"message", event},
		{"application", r.application},
		{"clientIP", r.clientIP},
		{"protocol", r.protocol},
		{"userName", r.userName},
		{"userId", r.userID},
	}
	m := body.SetEmptyMap()
	m.EnsureCapacity(len(fields))
	for _, f := range fields {
		putIfSet(m, f.key, f.value)
	}
}

func putIfSet(m pcommon.Map, key, value string) {
	if value != "" {
		m.PutStr(key, value)
	}
}

// Outcomes of a record, as counted in the records metric.
const (
	outcomeSignUp           = "signup"
	outcomeSignUpRedelivery = "signup_redelivered"
	outcomeLogin            = "login"
	outcomePassed           = "passed"
	outcomeDroppedOther     = "dropped_other"
	outcomeDroppedDuplicate = "dropped_duplicate"
)

func eventOutcome(event string) string {
	if event == auth0event.EventSignUp {
		return outcomeSignUp
	}
	return outcomeLogin
}

type outcomeKey struct{ outcome, basis string }

// outcomeCounts counts a batch's records per outcome and basis: a handful
// of keys, which a slice finds faster than a map hashes them.
type outcomeCounts []outcomeCount

type outcomeCount struct {
	key outcomeKey
	n   int64
}

func (c *outcomeCounts) add(k outcomeKey) {
	for i := range *c {
		if (*c)[i].key == k {
			(*c)[i].n++
			return
		}
	}
	*c = append(*c, outcomeCount{key: k, n: 1})
}

var outcomeAttrs sync.Map // outcomeKey -> metric.MeasurementOption

func (p *signupProcessor) countRecords(ctx context.Context, b *batch) {
	for _, c := range b.outcomes {
		k, n := c.key, c.n
		opt, ok := outcomeAttrs.Load(k)
		if !ok {
			opt = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", k.outcome), attribute.String("basis", k.basis)))
			outcomeAttrs.Store(k, opt)
		}
		p.telemetry.ProcessorSignupRecords.Add(ctx, n, opt.(metric.MeasurementOption))
	}
}
