/**
 * otelcol-auth0 post-login Action: replaces the "Tracks Logins/SignUps with
 * Splunk" Rule. It posts one event per login to the collector's
 * /auth0/actions endpoint (payload schema version 1, docs/action-payload.md);
 * the collector decides SignUp or Login, sends the Rule's event to Splunk and
 * marks new users in app_metadata.
 *
 * It never blocks or fails a login: the calls are bounded by a short time
 * budget (a second attempt only within it), every error is caught and
 * logged, and api.access is never touched.
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
const MAX_ATTEMPTS = 2;
const RETRY_PAUSE_MS = 100;
// A second attempt needs at least this much of the budget left.
const MIN_RETRY_BUDGET_MS = 250;

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
  const body = JSON.stringify(buildPayload(event));
  const deadline = Date.now() + timeoutMs;
  // A second attempt after a refusal or a lost answer, within the same
  // time budget: the event id names the login, so the collector keeps one
  // copy whichever attempts reached it.
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const outcome = await post(secrets, body, deadline);
    if (outcome.ok) {
      return;
    }
    const remaining = deadline - Date.now();
    if (!outcome.retry || attempt === MAX_ATTEMPTS || remaining < MIN_RETRY_BUDGET_MS) {
      console.log(`otelcol-auth0: ${outcome.reason}; event not recorded`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
};

// post sends the payload once, and says whether it was recorded and, if
// not, whether another attempt may succeed.
async function post(secrets, body, deadline) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    const response = await fetch(secrets.COLLECTOR_URL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${secrets.COLLECTOR_SECRET}`,
      },
      body,
      signal: controller.signal,
    });
    if (response.body) {
      await response.body.cancel();
    }
    if (response.ok) {
      return { ok: true };
    }
    // The status only: the answer may echo what was sent.
    return { ok: false, retry: response.status === 429 || response.status >= 500, reason: `the collector answered ${response.status}` };
  } catch (err) {
    if (err && err.name === 'AbortError') {
      return { ok: false, retry: false, reason: 'no answer within the time budget' };
    }
    const cause = (err && err.cause && err.cause.code) || (err && err.name) || 'error';
    return { ok: false, retry: true, reason: `could not reach the collector (${cause})` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * eventId names the login: the same login gets the same id however often
 * it is posted. The user's logins count tells their logins apart; without
 * it (Auth0 always sends it to post-login) the id is random.
 */
function eventId(event) {
  const userId = event.user && event.user.user_id;
  const count = event.stats && event.stats.logins_count;
  if (!userId || !Number.isInteger(count) || count < 1) {
    return crypto.randomUUID();
  }
  const tenant = (event.tenant && event.tenant.id) || '';
  const digest = crypto.createHash('sha256').update(`${tenant}\n${userId}\n${count}`).digest('hex');
  return `login-${digest.slice(0, 32)}`;
}

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
    event_id: eventId(event),
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
exports.eventId = eventId;
