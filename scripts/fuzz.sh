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
  "./internal/auth0event FuzzParse"
  "./internal/auth0event FuzzLogStream"
  "./internal/auth0event FuzzAction"
  "./extension/journalstorage FuzzOpen"
)
# Go 1.26's fuzz coordinator can fail a target at the -fuzztime deadline
# with "context deadline exceeded" although nothing failed: it compares the
# deadline's error with its workers' context before the cancellation has
# reached them (golang/go#75804, fixed in Go 1.27). Such a run writes no
# failing input; it is reported and not counted. Any other failure, or any
# new input under testdata/fuzz/, fails the script with the full output.
failed=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== $pkg $name ($fuzztime)"
  corpus="${pkg#./}/testdata/fuzz/$name"
  before=$(ls "$corpus" 2>/dev/null || true)
  rc=0
  out=$(go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" 2>&1) || rc=$?
  grep -E '^(fuzz: elapsed|PASS|FAIL|ok|---)|Failing input|go test -run' <<<"$out" \
    | awk '/^fuzz: elapsed/ { last = $0; next } { if (last != "") print last; last = ""; print }'
  [ "$rc" -eq 0 ] && continue
  after=$(ls "$corpus" 2>/dev/null || true)
  if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' <<<"$out" \
    && [ "$(grep -c '^--- FAIL' <<<"$out")" -eq 1 ] && ! grep -q 'Failing input' <<<"$out"; then
    echo "note: $name hit Go's fuzz coordinator race at the -fuzztime deadline (golang/go#75804); no input failed, none was written"
    continue
  fi
  echo "$out" | tail -60
  failed=1
done
exit "$failed"
