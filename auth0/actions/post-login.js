/**
 * otelcol-auth0 post-login Action: replaces the "Tracks Logins/SignUps with
 * Splunk" Rule. It posts one event per login to the collector's
 * /auth0/actions endpoint (payload schema version 1, docs/action-payload.md);
 * the collector decides SignUp or Login, sends the Rule's event to Splunk and
 * marks new users in app_metadata.
 *
 * It never blocks or fails a login: the call is bounded by a short timeout,
 * every error is caught and logged, and api.access is never touched.
 *
 * Secrets (Actions > this Action > Secrets):
 *   COLLECTOR_URL         e.g. https://auth0-collector.example.com/auth0/actions
 *   COLLECTOR_SECRET      the collector's AUTH0_RECEIVER_SECRET
 *   COLLECTOR_TIMEOUT_MS  optional, default 2000 (Auth0 advises well under 10 s;
 *                         a flow must finish within 20 s)
 *   SIGNED_UP_KEY         optional, default signedUp: the app_metadata flag the
 *                         collector's signup processor uses (signed_up_key)
 */
'use strict';

const crypto = require('crypto');

const SCHEMA_VERSION = 1;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_SIGNED_UP_KEY = 'signedUp';
const REFRESH_TOKEN_PROTOCOL = 'oauth2-refresh-token';

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  // A refresh-token exchange re-runs post-login without being a login: the
  // Rule counted those, and users got bogus events.
  if (event.transaction && event.transaction.protocol === REFRESH_TOKEN_PROTOCOL) {
    return;
  }
  const secrets = event.secrets || {};
  if (!secrets.COLLECTOR_URL || !secrets.COLLECTOR_SECRET) {
    console.log('otelcol-auth0: COLLECTOR_URL or COLLECTOR_SECRET secret is not set; event not sent');
    return;
  }
  const timeoutMs = Number(secrets.COLLECTOR_TIMEOUT_MS) > 0 ? Number(secrets.COLLECTOR_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(secrets.COLLECTOR_URL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${secrets.COLLECTOR_SECRET}`,
      },
      body: JSON.stringify(buildPayload(event)),
      signal: controller.signal,
    });
    if (!response.ok) {
      // The status only: the answer may echo what was sent.
      console.log(`otelcol-auth0: the collector answered ${response.status}; event not recorded`);
    }
    if (response.body) {
      await response.body.cancel();
    }
  } catch (err) {
    const reason = err && err.name === 'AbortError'
      ? `no answer within ${timeoutMs} ms`
      : (err && err.cause && err.cause.code) || (err && err.name) || 'error';
    console.log(`otelcol-auth0: could not reach the collector (${reason}); event not recorded`);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The payload of schema version 1: what the receiver maps to a log record.
 * Only what the Rule's event and the SignUp decision need, plus context a
 * Splunk user searches on.
 */
function buildPayload(event) {
  const user = event.user || {};
  const key = (event.secrets && event.secrets.SIGNED_UP_KEY) || DEFAULT_SIGNED_UP_KEY;
  // Only the flag the decision needs leaves Auth0, not the rest of
  // app_metadata; present but empty means "not signed up yet".
  const appMetadata = {};
  if (user.app_metadata && user.app_metadata[key] !== undefined) {
    appMetadata[key] = user.app_metadata[key];
  }
  const client = event.client || {};
  const connection = event.connection || {};
  const request = event.request || {};
  const payload = {
    schema_version: SCHEMA_VERSION,
    event_id: crypto.randomUUID(),
    timestamp: new Date().toISOString(),
    user: compact({
      user_id: user.user_id,
      name: user.name,
      email: user.email,
      app_metadata: appMetadata,
    }),
    client: compact({ client_id: client.client_id, name: client.name }),
    connection: compact({ id: connection.id, name: connection.name, strategy: connection.strategy }),
    request: compact({ ip: request.ip, user_agent: request.user_agent, hostname: request.hostname }),
    transaction: compact({ protocol: event.transaction && event.transaction.protocol }),
    stats: compact({ logins_count: event.stats && event.stats.logins_count }),
    tenant: compact({ id: event.tenant && event.tenant.id }),
  };
  if (event.organization && event.organization.id) {
    payload.organization = compact({ id: event.organization.id, name: event.organization.name });
  }
  return payload;
}

function compact(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && v !== null && v !== '') {
      out[k] = v;
    }
  }
  return out;
}

exports.buildPayload = buildPayload;
