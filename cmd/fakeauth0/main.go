// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Command fakeauth0 serves the fake Auth0 Management API of
// internal/testsupport/fakeauth0 as its own process, for end-to-end runs of the built
// collector: `fakeauth0 -addr 127.0.0.1:0 -client-id ID -client-secret S`.
// It prints the address it listens on as its first line. Tests seed and
// inspect it through its /_fake/ endpoints.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/testsupport/fakeauth0"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	clientID := flag.String("client-id", "", "client id the token endpoint accepts")
	clientSecret := flag.String("client-secret", "", "client secret the token endpoint accepts")
	audience := flag.String("audience", "", "audience token requests must ask for (empty: any)")
	rateLimit := flag.Float64("rate-limit", 0, "API calls per second before 429s (0: unlimited)")
	burst := flag.Int("burst", 10, "rate limit burst")
	flag.Parse()
	if *clientID == "" || *clientSecret == "" {
		fmt.Fprintln(os.Stderr, "fakeauth0: -client-id and -client-secret are required")
		os.Exit(2)
	}

	fake := fakeauth0.New(*clientID, *clientSecret, *audience)
	fake.SetRateLimit(*rateLimit, *burst)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fakeauth0: %v", err)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("fakeauth0: %v", err)
	}
}
