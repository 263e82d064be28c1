#!/usr/bin/env bash
# Fails when a go.mod requires OpenTelemetry Collector modules other than the
# pinned release (core v0.144.0 / v1.50.0, contrib v0.144.0). `go mod tidy`
# and ocb resolve a missing module to its newest version, which drags the
# whole build to a release this machine's module proxy cannot build.
set -euo pipefail
gomod=${1:-go.mod}
bad=$(grep -E '^\s*(go\.opentelemetry\.io/collector|github\.com/open-telemetry/opentelemetry-collector-contrib)/\S+ v[0-9]' "$gomod" \
  | grep -vE ' (v0\.144\.0|v1\.50\.0)( |$)' || true)
if [ -n "$bad" ]; then
  echo "$gomod requires collector modules outside the pinned release v0.144.0 / v1.50.0:" >&2
  echo "$bad" >&2
  echo "Pin them with: go get <module>@v0.144.0 (or @v1.50.0 for stable core modules)" >&2
  exit 1
fi
