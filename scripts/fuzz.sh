#!/usr/bin/env bash
# Runs every fuzz target for the given time each (default 1m) and prints what
# each found. New failing inputs are written to the package's testdata/fuzz/
# and then run as regression seeds by every `go test`.
#
# The second argument bounds the minimization of each new input (default 10s).
# Go minimizes every input that finds new coverage, not only failing ones,
# and removing each subset of bytes of a multi-KB seed is quadratic: with an
# empty corpus (a fresh CI machine) a 10s run spent all of its time
# minimizing the first new input of FuzzLogStream and ran 11 inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-1m}
minimizetime=${2:-10s}
targets=(
  "./internal/pjson FuzzParse"
  "./internal/auth0event FuzzLogStream"
  "./internal/auth0event FuzzAction"
  "./extension/journalstorage FuzzOpen"
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== $pkg $name ($fuzztime)"
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" 2>&1 \
    | grep -E '^(fuzz: elapsed|PASS|FAIL|ok|---)|Failing input|go test -run' \
    | awk '/^fuzz: elapsed/ { last = $0; next } { if (last != "") print last; last = ""; print }'
done
