#!/usr/bin/env bash
# Runs every fuzz target for the given time each (default 1m) and prints what
# each found. New failing inputs are written to the package's testdata/fuzz/
# and then run as regression seeds by every `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-1m}
targets=(
  "./internal/pjson FuzzParse"
  "./internal/auth0event FuzzLogStream"
  "./internal/auth0event FuzzAction"
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== $pkg $name ($fuzztime)"
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s 2>&1 | grep -E '^(fuzz: elapsed|PASS|FAIL|ok|---)' | tail -3
done
