// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ports come from below the ephemeral range, distinct, and can be bound.
func TestFreePort(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 50 {
		port := FreePort()
		assert.GreaterOrEqual(t, port, firstPort)
		assert.Less(t, port, low, "outbound connections take their source ports from the ephemeral range")
		assert.False(t, seen[port], "port %d handed out twice", port)
		seen[port] = true
	}
	for port := range seen {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		l.Close()
		break
	}
}
