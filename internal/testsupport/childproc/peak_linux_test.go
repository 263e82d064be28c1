// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The peak is VmHWM, never below what is resident; a process that is not
// there is an error, not a zero. (TestUsageMatchesProc follows the peak
// of a child through an allocation, a free and ResetPeak.)
func TestPeakRSS(t *testing.T) {
	// This process runs: each reading may be higher than the one before.
	rss, _, err := Memory(os.Getpid())
	require.NoError(t, err)
	peak, err := peakRSS(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, peak, rss)
	assert.GreaterOrEqual(t, procStatus(t, os.Getpid())["VmHWM"], peak)

	_, err = peakRSS(1 << 30)
	require.Error(t, err)
	require.Error(t, ResetPeak(1<<30))
}
