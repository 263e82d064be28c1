package main

import (
	"fmt"
	"net"
	"os/exec"
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
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction")
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("starting redis-server (scripts/ensure-redis.sh installs it): %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return addr, cmd.Process.Pid, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, fmt.Errorf("redis-server did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
