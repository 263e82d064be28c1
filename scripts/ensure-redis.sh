#!/usr/bin/env bash
# The claim-store tests start a real redis-server (Redis 7: SET ... NX GET).
# Installs Debian's redis-server when it is missing and this runs as root
# (CI); otherwise says what to do. Tests start their own servers on free
# loopback ports: the service Debian's package would start is not needed.
set -euo pipefail
ok() { command -v redis-server >/dev/null 2>&1 && redis-server --version | grep -Eq 'v=([7-9]|[1-9][0-9])\.'; }
if ok; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing redis-server from Debian's packages for the claim-store tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # Debian starts the service; the tests run servers of their own.
  if command -v service >/dev/null 2>&1; then service redis-server stop >/dev/null 2>&1 || true; fi
  ok || { echo "redis-server 7+ is required, got: $(redis-server --version)" >&2; exit 1; }
  exit 0
fi
echo "redis-server 7+ is required for the claim-store tests: install it (apt-get install redis-server) and retry" >&2
exit 1
