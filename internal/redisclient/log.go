// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0

package redisclient // import "github.com/otelcol-auth0/otelcol-auth0/internal/redisclient"

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// RouteLogs sends go-redis's own messages (a pool that cannot dial, a
// reconnect) to logger at debug level, instead of the process's standard
// error: the components that use Redis say what a failure means for the
// data, once, in their own words. go-redis has one logger per process, so
// the last caller's wins.
func RouteLogs(logger *zap.Logger) {
	redis.SetLogger(zapLogging{logger})
}

type zapLogging struct{ logger *zap.Logger }

func (z zapLogging) Printf(_ context.Context, format string, v ...any) {
	z.logger.Debug(fmt.Sprintf(format, v...), zap.String("library", "go-redis"))
}
