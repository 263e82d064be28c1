// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package binarytest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMemory(t *testing.T) {
	p := shell(t, `exec sleep 60`)
	stop := p.SampleAnon()
	time.Sleep(120 * time.Millisecond)
	rss, peak := p.Memory()
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, peak, rss)
	assert.Positive(t, stop())
}
