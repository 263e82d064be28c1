#!/usr/bin/env bash
# Starts the built collector with otelcol-config.yaml. Every variable that is
# not set gets a local default; without SPLUNK_HEC_ENDPOINT it also starts
# cmd/localhec, a local HEC endpoint that appends every HEC event it
# receives, as Splunk would receive it, to local/hec-events.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

hec_pid=
collector_pid=
stop() {
  if [ -n "$collector_pid" ]; then kill -TERM "$collector_pid" 2>/dev/null || true; fi
}
cleanup() {
  if [ -n "$hec_pid" ]; then
    kill -TERM "$hec_pid" 2>/dev/null || true
    wait "$hec_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [ -z "${SPLUNK_HEC_ENDPOINT:-}" ]; then
  hec_listen=${LOCAL_HEC_ENDPOINT:-localhost:18088}
  export SPLUNK_HEC_ENDPOINT=http://$hec_listen/services/collector
  export SPLUNK_HEC_TOKEN=${SPLUNK_HEC_TOKEN:-local-hec-token}
  hec_file=${LOCAL_HEC_FILE:-$PWD/local/hec-events.jsonl}
  go build -o _build/localhec ./cmd/localhec
  # In a process group of its own (set -m), so that Ctrl-C reaches the
  # collector only: the endpoint stays up while the collector shuts down,
  # and stops after it.
  set -m
  hec_ready=$(mktemp)
  ./_build/localhec -listen "$hec_listen" -file "$hec_file" >"$hec_ready" &
  hec_pid=$!
  set +m
  # It prints its address once it listens; an exit instead means the port
  # is taken (or the file cannot be written).
  for ((tries = 0; ; tries++)); do
    if [ -s "$hec_ready" ]; then break; fi
    if ! kill -0 "$hec_pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
      rm -f "$hec_ready"
      echo "the local HEC endpoint did not start on $hec_listen" >&2
      exit 1
    fi
    sleep 0.1
  done
  rm -f "$hec_ready"
  echo "No SPLUNK_HEC_ENDPOINT: sending to the local HEC endpoint on $hec_listen; each HEC event lands in $hec_file as one line, as Splunk would receive it"
else
  : "${SPLUNK_HEC_TOKEN:?SPLUNK_HEC_ENDPOINT is set, so SPLUNK_HEC_TOKEN must be too}"
  echo "Sending to Splunk HEC at $SPLUNK_HEC_ENDPOINT"
fi
export AUTH0_RECEIVER_ENDPOINT=${AUTH0_RECEIVER_ENDPOINT:-localhost:8080}
if [ -z "${AUTH0_RECEIVER_SECRET:-}" ]; then
  export AUTH0_RECEIVER_SECRET=local-dev-secret
  echo "No AUTH0_RECEIVER_SECRET: the receiver accepts the local development secret 'local-dev-secret'"
fi
export OTELCOL_STORAGE_DIR=${OTELCOL_STORAGE_DIR:-$PWD/local/storage}
mkdir -p "$OTELCOL_STORAGE_DIR" local

cat <<MSG
Auth0 receiver on http://$AUTH0_RECEIVER_ENDPOINT (log streams: /auth0/logs, Action: /auth0/actions). Try:
  curl -H 'Authorization: Bearer <secret>' -H 'Content-Type: application/json' \\
       --data-binary @internal/testsupport/auth0test/testdata/logstream.jsonl http://$AUTH0_RECEIVER_ENDPOINT/auth0/logs
MSG
# The collector runs as a child so that the local HEC endpoint is stopped
# when it ends; INT and TERM are passed on to it.
./_build/otelcol-auth0 --config otelcol-config.yaml &
collector_pid=$!
trap stop INT TERM
# wait returns early (above 128) when a trapped signal arrives: wait again
# until the collector has exited, and exit with its status.
status=0
wait "$collector_pid" || status=$?
while kill -0 "$collector_pid" 2>/dev/null; do
  status=0
  wait "$collector_pid" || status=$?
done
exit "$status"
