// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package auth0loginreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/auth0test"
	"github.com/otelcol-auth0/otelcol-auth0/receiver/auth0loginreceiver/internal/metadatatest"
)

func TestTypeFilter(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := startReceiver(t, sink, func(c *Config) { c.Types = TypeFilterConfig{Exclude: []string{"fp", "sertft"}} })
	assert.Equal(t, summaryOf(3, 0, 2, 0), h.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines)).body)

	sink2 := new(consumertest.LogsSink)
	h2 := startReceiver(t, sink2, func(c *Config) { c.Types = TypeFilterConfig{Include: []string{"s", "ss"}} })
	assert.Equal(t, summaryOf(2, 0, 3, 0), h2.post("/auth0/logs", auth0test.Sample(auth0test.LogStreamLines)).body)
	assert.Equal(t, []string{
		"90020261120081324062000000000000000000000000000001",
		"90020261120081325118000000000000000000000000000002",
	}, logIDs(sink2))

	metadatatest.AssertEqualReceiverAuth0loginRecordsFiltered(t, h.tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("endpoint", "logs")), Value: 2},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestTypeFilterKeep: an include list admits only its codes, an exclude
// list removes codes (even included ones), and a record without a type
// passes unless an include list asks for specific types.
func TestTypeFilterKeep(t *testing.T) {
	tests := []struct {
		name    string
		cfg     TypeFilterConfig
		kept    []string
		dropped []string
	}{
		{"no lists", TypeFilterConfig{}, []string{"s", "fp", "not-a-code", ""}, nil},
		{"empty lists", TypeFilterConfig{Include: []string{}, Exclude: []string{}}, []string{"s", ""}, nil},
		{"include", TypeFilterConfig{Include: []string{"s", "ss"}}, []string{"s", "ss"}, []string{"fp", "sertft", ""}},
		{"exclude", TypeFilterConfig{Exclude: []string{"fp", "sertft"}}, []string{"s", "ss", ""}, []string{"fp", "sertft"}},
		{"both", TypeFilterConfig{Include: []string{"s", "fp"}, Exclude: []string{"fp"}}, []string{"s"}, []string{"fp", "ss", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTypeFilter(tt.cfg)
			for _, code := range tt.kept {
				assert.True(t, f.keep(code), "type %q is kept", code)
			}
			for _, code := range tt.dropped {
				assert.False(t, f.keep(code), "type %q is dropped", code)
			}
		})
	}
}
