#!/usr/bin/env bash
# The Action's tests need Node.js 18+ (fetch, node:test). Installs Debian's
# nodejs when it is missing and this runs as root (CI); otherwise says what to do.
set -euo pipefail
if command -v node >/dev/null 2>&1 && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Node.js from Debian's packages for the Action's tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' || { echo "Node.js 18+ is required, got $(node --version)" >&2; exit 1; }
  exit 0
fi
echo "Node.js 18+ is required for the Action's tests (make action-test): install it and retry" >&2
exit 1
