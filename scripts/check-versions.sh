#!/usr/bin/env bash
# Fails when a go.mod requires OpenTelemetry Collector modules other than the
# pinned release (core v0.158.0 / v1.64.0, contrib v0.158.0) and the listed
# exceptions, each at exactly its own version. `go mod tidy` and ocb resolve a
# module that is missing to its newest version, which drags the build to a
# release this machine's module proxy cannot build; an exception that moves
# (up or down) is drift too. scripts/try-release.sh VERSION tells what a move
# to another release needs.
set -euo pipefail
gomod=${1:-go.mod}
release=v0.158.0
stable=v1.64.0

# module version reason: modules the proxy does not serve at the release.
exceptions=(
  "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/webhookeventreceiver v0.156.0 not served at v0.157.0 or v0.158.0 (the bench's generic webhook pipeline)"
  "github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension v0.157.0 not served at v0.158.0"
)

status=0
while read -r module version _; do
  want=""
  for exception in "${exceptions[@]}"; do
    read -r exception_module exception_version exception_reason <<<"$exception"
    if [ "$module" = "$exception_module" ]; then
      want=$exception_version
      reason=$exception_reason
    fi
  done
  if [ -n "$want" ]; then
    if [ "$version" != "$want" ]; then
      echo "$gomod: $module $version: pinned as an exception at $want ($reason)" >&2
      status=1
    fi
  elif [ "$version" != "$release" ] && [ "$version" != "$stable" ]; then
    echo "$gomod: $module $version: outside the pinned release $release / $stable" >&2
    status=1
  fi
done < <(sed -nE 's/^\s*((go\.opentelemetry\.io\/collector|github\.com\/open-telemetry\/opentelemetry-collector-contrib)\/\S+) (v[0-9]\S*).*/\1 \3/p' "$gomod")

if [ "$status" -ne 0 ]; then
  echo "Pin them with: go get <module>@$release (or @$stable for stable core modules), or at the exception's version" >&2
fi
exit $status
