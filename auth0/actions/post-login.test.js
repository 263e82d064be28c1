// Tests of the post-login Action, with Node's test runner, against the real
// built collector on loopback: `make action-test` (OTELCOL_AUTH0_BINARY names
// the binary). The handler runs with a recorded post-login event and a stub
// api; the record that arrives at the collector's local HEC endpoint is checked.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const action = require('./post-login.js');

const repo = path.resolve(__dirname, '..', '..');
const recordedEvent = JSON.parse(fs.readFileSync(path.join(__dirname, 'testdata', 'event.json'), 'utf8'));
const SECRET = 'action-test-secret-5e2b';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A stub of the post-login api object that records every call: the Action
// must never deny access or change the login.
function stubApi() {
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  return {
    calls,
    access: { deny: record('access.deny') },
    user: { setAppMetadata: record('user.setAppMetadata'), setUserMetadata: record('user.setUserMetadata') },
    idToken: { setCustomClaim: record('idToken.setCustomClaim') },
    accessToken: { setCustomClaim: record('accessToken.setCustomClaim') },
    multifactor: { enable: record('multifactor.enable') },
    redirect: { sendUserTo: record('redirect.sendUserTo') },
  };
}

function eventWith(overrides, secrets) {
  const event = structuredClone(recordedEvent);
  Object.assign(event, overrides);
  event.secrets = secrets;
  return event;
}

let collector;
let localHEC;
let endpoint;
let hecFile;
let dir;

before(async () => {
  const binary = process.env.OTELCOL_AUTH0_BINARY;
  assert.ok(binary, 'OTELCOL_AUTH0_BINARY must name the built collector: run `make action-test`');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-auth0-action-'));
  hecFile = path.join(dir, 'hec-events.jsonl');
  const [receiverPort, hecPort, healthPort, metricsPort, pprofPort, zpagesPort] = await Promise.all(
    Array.from({ length: 6 }, freePort));
  endpoint = `http://127.0.0.1:${receiverPort}/auth0/actions`;
  // The local HEC endpoint `make run` starts (cmd/localhec): LOCALHEC_BINARY,
  // or built here.
  let localHECBinary = process.env.LOCALHEC_BINARY;
  if (!localHECBinary) {
    localHECBinary = path.join(dir, 'localhec');
    execFileSync('go', ['build', '-o', localHECBinary, './cmd/localhec'], { cwd: repo, stdio: 'inherit' });
  }
  localHEC = spawn(localHECBinary, ['-listen', `127.0.0.1:${hecPort}`, '-file', hecFile], {
    env: { ...process.env, SPLUNK_HEC_TOKEN: 'action-test-hec-token' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  collector = spawn(binary, [
    '--config', path.join(repo, 'otelcol-config.yaml'),
    '--config', `yaml:extensions::pprof::endpoint: 127.0.0.1:${pprofPort}`,
    '--config', `yaml:extensions::zpages::endpoint: 127.0.0.1:${zpagesPort}`,
    '--config', `yaml:service::telemetry::metrics::readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${metricsPort}}}}}]`,
  ], {
    env: {
      ...process.env,
      AUTH0_RECEIVER_ENDPOINT: `127.0.0.1:${receiverPort}`,
      AUTH0_RECEIVER_SECRET: SECRET,
      SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${hecPort}/services/collector`,
      SPLUNK_HEC_TOKEN: 'action-test-hec-token',
      OTELCOL_STORAGE_DIR: path.join(dir, 'storage'),
      OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  collector.output = '';
  collector.stdout.on('data', (d) => { collector.output += d; });
  collector.stderr.on('data', (d) => { collector.output += d; });
  for (let i = 0; i < 300; i++) {
    if (collector.exitCode !== null) {
      throw new Error(`collector exited: ${collector.output}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${healthPort}/`);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`collector not healthy: ${collector.output}`);
});

after(async () => {
  if (collector && collector.exitCode === null) {
    const exited = new Promise((resolve) => collector.on('exit', resolve));
    collector.kill('SIGTERM');
    await exited;
  }
  if (localHEC && localHEC.exitCode === null) {
    const exited = new Promise((resolve) => localHEC.on('exit', resolve));
    localHEC.kill('SIGTERM');
    await exited;
  }
  if (dir) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The HEC events the local endpoint wrote, one JSON object per line, as
// Splunk would receive them: {time, host, source, sourcetype, index, event, fields}.
function hecEvents() {
  if (!fs.existsSync(hecFile)) return [];
  const events = [];
  for (const line of fs.readFileSync(hecFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const hecEvent = JSON.parse(line);
      events.push({ event: hecEvent.event, fields: hecEvent.fields || {} });
    } catch {
      // being written
    }
  }
  return events;
}

async function waitForEvent(pred, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = hecEvents().find(pred);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no matching HEC event after ${timeoutMs} ms; have ${JSON.stringify(hecEvents())}\n${collector.output}`);
}

test('a first login reaches Splunk as the Rule\'s SignUp event, the next as Login', async () => {
  const userId = 'auth0|action-first-login';
  const api = stubApi();
  const first = eventWith({ user: { ...recordedEvent.user, user_id: userId } }, { COLLECTOR_URL: endpoint, COLLECTOR_SECRET: SECRET });
  await action.onExecutePostLogin(first, api);

  const signup = await waitForEvent((e) => e.event.userId === userId);
  assert.deepEqual(signup.event, {
    message: 'SignUp',
    application: 'Storefront',
    clientIP: '203.0.113.7',
    protocol: 'oidc-basic-profile',
    userName: 'ana@example.com',
    userId,
  });
  assert.equal(signup.fields['auth0.source'], 'action');

  const second = eventWith({
    user: { ...recordedEvent.user, user_id: userId, logins_count: 2, app_metadata: { plan: 'gold', signedUp: true } },
    stats: { logins_count: 2 },
  }, { COLLECTOR_URL: endpoint, COLLECTOR_SECRET: SECRET });
  await action.onExecutePostLogin(second, api);
  await waitForEvent((e) => e.event.userId === userId && e.event.message === 'Login');
  assert.deepEqual(api.calls, [], 'the Action never changes the login');
});

test('only the signed-up flag of app_metadata leaves Auth0', () => {
  const payload = action.buildPayload(eventWith({}, {}));
  assert.deepEqual(payload.user.app_metadata, {});
  assert.equal(payload.schema_version, 1);
  assert.match(payload.event_id, /^login-[0-9a-f]{32}$/);
  assert.equal(payload.transaction.protocol, 'oidc-basic-profile');
  assert.equal(payload.stats.logins_count, 1);
  assert.deepEqual(payload.organization, { id: 'org_W1xY2zA3bC4dE5fG', name: 'acme-retail' });
  const flagged = action.buildPayload(eventWith({ user: { ...recordedEvent.user, app_metadata: { plan: 'x', marked: true } } }, { SIGNED_UP_KEY: 'marked' }));
  assert.deepEqual(flagged.user.app_metadata, { marked: true });
});

test('the event id names the login: the same login, the same id', () => {
  const first = action.eventId(eventWith({}, {}));
  assert.equal(action.eventId(eventWith({}, {})), first);
  assert.notEqual(action.eventId(eventWith({ stats: { logins_count: 2 } }, {})), first);
  assert.notEqual(action.eventId(eventWith({ user: { ...recordedEvent.user, user_id: 'auth0|other' } }, {})), first);
  const uncounted = action.eventId(eventWith({ stats: {} }, {}));
  assert.match(uncounted, /^[0-9a-f-]{36}$/, 'without a logins count the id is random');
  assert.notEqual(action.eventId(eventWith({ stats: {} }, {})), uncounted);
});

// A local server that counts requests and answers as told.
async function countingServer(handler) {
  const server = http.createServer((req, res) => {
    server.requests++;
    handler(req, res);
  });
  server.requests = 0;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${server.address().port}/auth0/actions`;
  return server;
}

test('refresh-token exchanges are not sent', async () => {
  const server = await countingServer((req, res) => res.end('{}'));
  try {
    const event = eventWith({ transaction: { ...recordedEvent.transaction, protocol: 'oauth2-refresh-token' } }, { COLLECTOR_URL: server.url, COLLECTOR_SECRET: SECRET });
    await action.onExecutePostLogin(event, stubApi());
    assert.equal(server.requests, 0);
  } finally {
    server.close();
  }
});

test('returns promptly when the collector is down', async () => {
  const port = await freePort(); // nothing listens there
  const api = stubApi();
  const started = Date.now();
  await action.onExecutePostLogin(eventWith({}, { COLLECTOR_URL: `http://127.0.0.1:${port}/auth0/actions`, COLLECTOR_SECRET: SECRET }), api);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  assert.deepEqual(api.calls, []);
});

test('returns within its timeout when the collector hangs', async () => {
  const server = await countingServer(() => { /* never answers */ });
  try {
    const api = stubApi();
    const started = Date.now();
    await action.onExecutePostLogin(eventWith({}, { COLLECTOR_URL: server.url, COLLECTOR_SECRET: SECRET, COLLECTOR_TIMEOUT_MS: '300' }), api);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 1500, `took ${took} ms`);
    assert.equal(server.requests, 1);
    assert.deepEqual(api.calls, []);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a refusal the collector may not repeat is tried once more, with the same event id', async () => {
  const bodies = [];
  const statuses = [503, 200];
  const server = await countingServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.statusCode = statuses[bodies.length - 1];
      res.end('{}');
    });
  });
  try {
    const api = stubApi();
    await action.onExecutePostLogin(eventWith({}, { COLLECTOR_URL: server.url, COLLECTOR_SECRET: SECRET }), api);
    assert.equal(server.requests, 2);
    assert.equal(bodies[0].event_id, bodies[1].event_id);
    assert.deepEqual(api.calls, []);
  } finally {
    server.close();
  }
});

test('a refusal that would be repeated is not tried again', async () => {
  for (const status of [400, 401, 413]) {
    const server = await countingServer((req, res) => { res.statusCode = status; res.end('{}'); });
    try {
      await action.onExecutePostLogin(eventWith({}, { COLLECTOR_URL: server.url, COLLECTOR_SECRET: SECRET }), stubApi());
      assert.equal(server.requests, 1, `status ${status}`);
    } finally {
      server.close();
    }
  }
});

test('a refused secret or missing secrets never fail the login', async () => {
  const api = stubApi();
  await action.onExecutePostLogin(eventWith({}, { COLLECTOR_URL: endpoint, COLLECTOR_SECRET: 'wrong' }), api);
  await action.onExecutePostLogin(eventWith({}, {}), api);
  assert.deepEqual(api.calls, []);
});
