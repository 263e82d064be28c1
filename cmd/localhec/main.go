// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

// Command localhec is a local stand-in for Splunk's HTTP Event Collector
// (internal/localhec): it accepts what the collector's splunk_hec exporter
// sends and appends each HEC event, as Splunk would receive it, to a file,
// one JSON object per line. `make run` starts it beside the collector when
// SPLUNK_HEC_ENDPOINT is not set.
//
//	SPLUNK_HEC_TOKEN=local-hec-token localhec -listen localhost:18088 -file local/hec-events.jsonl
//
// The token is read from the environment (SPLUNK_HEC_TOKEN), never from the
// command line. The address it listens on is printed as the first line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/otelcol-auth0/otelcol-auth0/internal/localhec"
)

func main() {
	listen := flag.String("listen", "localhost:18088", "listen address (port 0: any free port)")
	file := flag.String("file", "local/hec-events.jsonl", "file the events are appended to, one HEC event per line")
	flag.Parse()
	logger := log.New(os.Stderr, "", log.LstdFlags)
	if err := run(*listen, *file, os.Getenv("SPLUNK_HEC_TOKEN"), logger); err != nil {
		logger.Fatalf("localhec: %v", err)
	}
}

func run(listen, file, token string, logger *log.Logger) error {
	if token == "" {
		return errors.New("SPLUNK_HEC_TOKEN is not set: it is the token clients must send")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	handler, err := localhec.New(token, out, localhec.Options{Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		// In-flight requests finish, so no request is half written.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-done
	return nil
}
