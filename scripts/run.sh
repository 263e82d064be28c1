#!/usr/bin/env bash
# Starts the built collector with otelcol-config.yaml. Every variable that is
# not set gets a local default; without SPLUNK_HEC_ENDPOINT the collector also
# runs a local HEC endpoint that writes what arrives to local/hec-events.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

configs=(--config otelcol-config.yaml)
if [ -z "${SPLUNK_HEC_ENDPOINT:-}" ]; then
  export SPLUNK_HEC_ENDPOINT=http://localhost:18088/services/collector
  export SPLUNK_HEC_TOKEN=${SPLUNK_HEC_TOKEN:-local-hec-token}
  export LOCAL_HEC_FILE=${LOCAL_HEC_FILE:-$PWD/local/hec-events.jsonl}
  configs+=(--config config/local-hec.yaml)
  echo "No SPLUNK_HEC_ENDPOINT: sending to the local HEC endpoint, events land in $LOCAL_HEC_FILE"
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
exec ./_build/otelcol-auth0 "${configs[@]}"
