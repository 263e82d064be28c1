#!/usr/bin/env bash
# Usage: scripts/try-release.sh VERSION   (e.g. v0.161.0)
#
# Tells, in a few minutes, whether the module proxy serves what a move of the
# distribution to collector release VERSION needs. Every collector module that
# builder-config.yaml names (and the ocb and mdatagen tools) is asked for at
# VERSION (v1.x modules at the matching stable release, VERSION's minor less
# 94), each with `go get` in its own scratch module, then all those that
# resolved together. Nothing in the project is touched; the scratch modules are
# removed at the end. Exit status: 0 when every module resolves alone and
# together, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: $0 VERSION (e.g. v0.161.0)}
if [[ ! $version =~ ^v0\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "VERSION must look like v0.161.0" >&2
  exit 2
fi
stable="v1.$((BASH_REMATCH[1] - 94)).${BASH_REMATCH[2]}"

# The modules: every `gomod:` of builder-config.yaml that is a collector module
# (the project's own module is built from the checkout), otelcol (which the
# main that ocb generates requires at the release), and the two tools.
mapfile -t rows < <(
  sed -nE 's/^\s*-\s*gomod:\s*((go\.opentelemetry\.io\/collector|github\.com\/open-telemetry\/opentelemetry-collector-contrib)\/\S+)\s+(v[0-9][^ ]*).*/\1 \3/p' builder-config.yaml
  echo "go.opentelemetry.io/collector/otelcol v0"
  echo "go.opentelemetry.io/collector/cmd/builder v0"
  echo "go.opentelemetry.io/collector/cmd/mdatagen v0"
)

scratch=$(mktemp -d)
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
goversion=$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')

new_module() { # dir
  mkdir -p "$1"
  (cd "$1" && go mod init example.com/try-release >/dev/null 2>&1 && go mod edit -go="$goversion")
}

# Why go said no, in one line: the last line of its error that names a module
# version, without URLs, and the proxy's own words when it gave any.
reason() {
  local line said
  line=$(grep -E '@v[0-9]|does not contain package' "$1" | tail -1 |
    sed -E 's/^go: //; s/^\s+//; s#(reading|verifying module: reading) https://[^ ]+: #\1: #g')
  said=$(grep -E '^\s*server response:' "$1" | tail -1 | sed -E 's/^\s+//')
  echo "${line:-$(grep -v '^\s*$' "$1" | tail -1)}${said:+ ($said)}" | cut -c1-300
}

# The newest of the `back` releases before VERSION at which a refused module
# resolves alone: what to pin as an exception.
newest_older() { # module want
  local module=$1 want=$2 minor patchless dir
  minor=$(echo "$want" | cut -d. -f2)
  patchless=$(echo "$want" | cut -d. -f1)
  for ((m = minor - 1; m >= minor - back; m--)); do
    dir="$scratch/older-$(echo "$module" | tr '/' '_')-$m"
    new_module "$dir"
    if (cd "$dir" && go get "$module@$patchless.$m.0" >/dev/null 2>&1); then
      echo "$patchless.$m.0"
      return
    fi
  done
}
back=${TRY_RELEASE_BACK:-6}

echo "collector release $version (stable modules $stable), $(date -u +%Y-%m-%dT%H:%MZ), $(go env GOVERSION), GOPROXY=$(go env GOPROXY)"
resolved=()
exceptions=()
refused=0
for row in "${rows[@]}"; do
  module=${row% *}
  pinned=${row#* }
  want=$version
  [[ $pinned == v1.* ]] && want=$stable
  dir="$scratch/$(echo "$module" | tr '/' '_')"
  new_module "$dir"
  if (cd "$dir" && go get "$module@$want" >"$dir/log" 2>&1); then
    printf 'resolves  %s@%s\n' "$module" "$want"
    resolved+=("$module@$want")
  else
    printf 'REFUSED   %s@%s: %s\n' "$module" "$want" "$(reason "$dir/log")"
    older=$(newest_older "$module" "$want")
    if [ -n "$older" ]; then
      printf '          exception: %s@%s resolves (the newest that does, of the %d releases before)\n' "$module" "$older" "$back"
      exceptions+=("$module@$older")
    else
      printf '          none of the %d releases before resolves either\n' "$back"
    fi
    refused=$((refused + 1))
  fi
done

# Together, with the exceptions at their older release: the versions of shared
# dependencies are raised to the highest any module asks for, which can reach a
# version that was fine for no one alone.
together="$scratch/together"
new_module "$together"
set_together=("${resolved[@]}" "${exceptions[@]}")
if [ ${#set_together[@]} -gt 0 ]; then
  if (cd "$together" && go get "${set_together[@]}" >"$together/log" 2>&1); then
    echo "together: the ${#resolved[@]} modules at $version / $stable and the ${#exceptions[@]} exception(s) resolve together"
    # Shared dependencies raised beyond the release by some module's
    # requirements (the exceptions themselves are expected to differ).
    if listed=$(cd "$together" && go list -m -e all 2>"$together/list.log"); then
      drift=$(echo "$listed" |
        grep -E '^(go\.opentelemetry\.io/collector|github\.com/open-telemetry/opentelemetry-collector-contrib)/' |
        grep -vE " ($version|$stable)$" | grep -vxF -f <(printf '%s\n' "${exceptions[@]}" | tr '@' ' ') || true)
      if [ -n "$drift" ]; then
        echo "together, collector modules at other versions than $version / $stable (besides the exceptions):"
        echo "$drift" | sed 's/^/          /'
      fi
    else
      echo "together: go list -m all failed: $(reason "$together/list.log")"
    fi
  else
    echo "TOGETHER REFUSED: $(reason "$together/log")"
    refused=$((refused + 1))
  fi
fi

total=${#rows[@]}
echo "summary: ${#resolved[@]}/$total modules resolve at $version / $stable; $refused refusal(s)"
[ "$refused" -eq 0 ]
