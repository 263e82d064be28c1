// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/childproc"
)

// redisOverlay points the signup processor at the run's redis-server, as
// config/redis.yaml does with REDIS_ENDPOINT, in plain text on loopback.
const redisOverlay = "yaml:processors::signup::redis: {endpoint: '${env:REDIS_ENDPOINT}', tls: {insecure: true}}"

// startRedis runs a redis-server on a free loopback port, its data in dir,
// as production should: append-only file, fsync on every write.
func startRedis(dir string) (addr string, pid int, stop func(), err error) {
	port := childproc.FreePort()
	proc, err := childproc.Start("redis-server", []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction",
	}, nil)
	if err != nil {
		return "", 0, nil, fmt.Errorf("starting redis-server (scripts/ensure-redis.sh installs it): %w", err)
	}
	stop = func() { _, _ = proc.Stop(syscall.SIGTERM, time.Minute) }
	addr = "127.0.0.1:" + strconv.Itoa(port)
	if err := proc.WaitListen(addr, 10*time.Second); err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("redis-server: %w", err)
	}
	return addr, proc.Pid(), stop, nil
}
