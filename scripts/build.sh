#!/usr/bin/env bash
# Builds _build/otelcol-auth0 from builder-config.yaml with ocb, in three steps
# instead of ocb's one.
#
# ocb's own step "go mod tidy" fails for this distribution: tidy also resolves
# the dependencies of the tests of our dependencies, and one of them (the
# contrib pprof translator's tests, reached through the splunk_hec exporter)
# imports github.com/open-telemetry/sig-profiling/profcheck, which the module
# proxy refuses. Nothing in the binary imports it. So:
#   1. ocb generates the sources and go.mod (its tidy fails; only that failure
#      is accepted);
#   2. `go mod tidy -e` completes go.mod/go.sum, reporting the module it could
#      not get instead of stopping;
#   3. scripts/check-versions.sh checks that tidy kept the pinned release (what
#      ocb's strict versioning would have checked), then ocb compiles without
#      generating or resolving again.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
config=builder-config.yaml
out=_build

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! $go tool builder --config "$config" --skip-compilation >"$log" 2>&1; then
  if ! grep -q 'failed to update go.mod' "$log" || [ ! -f "$out/go.mod" ]; then
    cat "$log" >&2
    echo "ocb failed to generate the distribution's sources (above)" >&2
    exit 1
  fi
  echo "ocb generated $out/; its go mod tidy failed as expected (a test-only dependency the proxy refuses): completing with go mod tidy -e"
fi

(cd "$out" && $go mod tidy -e 2>"$log") || { cat "$log" >&2; exit 1; }
# The modules tidy could not get: only the known test-only one may be missing;
# any other fails the build here rather than later in a confusing way.
expected_missing='github.com/open-telemetry/sig-profiling/profcheck@'
missing=$(grep -oE '[^ :]+@v[^ :]+: (reading|verifying)' "$log" | cut -d: -f1 | sort -u || true)
unexpected=$(echo "$missing" | grep -v "^$expected_missing" | grep . || true)
if [ -n "$unexpected" ]; then
  cat "$log" >&2
  echo "go mod tidy -e in $out could not get these modules (above):" >&2
  echo "$unexpected" >&2
  exit 1
fi

scripts/check-versions.sh "$out/go.mod"
$go tool builder --config "$config" --skip-generate --skip-get-modules
