#!/usr/bin/env bash
# Puts the project's license header at the top of every Go file of the
# repository (tracked or new, not ignored) that lacks it: the two comment lines
# and a blank line, before any build constraint and the package clause.
# Generated files (a first line "// Code generated ... DO NOT EDIT.") are left
# as their generator writes them. Running it again changes nothing; the
# goheader linter of `make lint` fails on a file without the header.
set -euo pipefail
cd "$(dirname "$0")/.."

header='// Copyright The otelcol-auth0 Authors
// SPDX-License-Identifier: Apache-2.0'

added=0
while IFS= read -r -d '' file; do
  first=$(head -n 1 "$file")
  if [[ $first =~ ^//\ Code\ generated\ .*\ DO\ NOT\ EDIT\.$ ]]; then
    continue
  fi
  if [ "$(head -n 2 "$file")" = "$header" ]; then
    continue
  fi
  tmp=$(mktemp)
  { printf '%s\n\n' "$header"; cat "$file"; } >"$tmp"
  chmod --reference="$file" "$tmp"
  mv "$tmp" "$file"
  echo "added: $file"
  added=$((added + 1))
done < <(git ls-files -z --cached --others --exclude-standard -- '*.go')
echo "license header added to $added file(s)"
