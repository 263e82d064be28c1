#!/usr/bin/env bash
# Regenerates mdatagen output for each component directory given and fails
# if any file changed: the committed files must be what metadata.yaml makes.
set -euo pipefail
# mdatagen is a tool of its own module (internal/tools), never of go.mod.
tools_mod=$(cd "$(dirname "$0")/../internal/tools" && pwd)/go.mod
GO=${GO:-go}
status=0
for dir in "$@"; do
  before=$(cd "$dir" && find . -type f \( -name 'generated_*' -o -name 'documentation.md' -o -name 'README.md' \) -print0 | sort -z | xargs -0 sha256sum)
  (cd "$dir" && "$GO" tool -modfile="$tools_mod" mdatagen metadata.yaml)
  after=$(cd "$dir" && find . -type f \( -name 'generated_*' -o -name 'documentation.md' -o -name 'README.md' \) -print0 | sort -z | xargs -0 sha256sum)
  if [ "$before" != "$after" ]; then
    echo "$dir: generated files were out of date with metadata.yaml (now regenerated; commit them):" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    status=1
  fi
done
exit $status
