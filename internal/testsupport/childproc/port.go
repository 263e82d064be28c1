// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package childproc

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// FreePort returns a loopback port nothing listens on right now.
//
// A port the kernel hands out for ":0" comes from the ephemeral range, the
// same range outbound connections take their source ports from: between
// this check and the collector binding it, a load generator's connection
// could take it ("address already in use"). So the port is drawn below the
// ephemeral range, and never handed out twice by one process.
func FreePort() int {
	portsMu.Lock()
	defer portsMu.Unlock()
	low := ephemeralLow()
	for range 1000 {
		port := firstPort + rand.IntN(low-firstPort)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[port] = true
		return port
	}
	panic("childproc: no free port below the ephemeral range")
}

const firstPort = 10000

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux;
// IANA's 49152 elsewhere).
func ephemeralLow() int {
	low := 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > firstPort+1000 {
				low = n
			}
		}
	}
	return low
}
