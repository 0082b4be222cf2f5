// Test fixtures: real EdgeHost processes (built once by test.sh), a TCP proxy that can cut connections, HS256 tokens
// signed with the development key, and condition waits with timeouts (never sleeps as synchronization).
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { connect } from '../../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..', '..', '..');
export const edgeProjectDir = join(repoRoot, 'EdgeHost');
export const edgeDll = join(edgeProjectDir, 'bin', 'Debug', 'net10.0', 'OrleansGateway.EdgeHost.dll');
export const resultsDir = join(here, '..', '..', 'test-results');

export const DEV_SECRET = 'development-only-secret-change-me-0123456789';
export const ADMIN_TOKEN = 'js-sdk-tests-admin-token';

const DEV_AUTH = {
  Gateway__Auth__Issuer: 'ogw-dev',
  Gateway__Auth__Audience: 'ogw',
  Gateway__Auth__Keys__0__Id: 'dev',
  Gateway__Auth__Keys__0__Algorithm: 'HS256',
  Gateway__Auth__Keys__0__Secret: DEV_SECRET,
  Gateway__Auth__DefaultChannels__0: '*',
};

const children = new Set();
process.on('exit', () => {
  // Last resort (a failed test that never reached its cleanup): no edge outlives the test process.
  for (const child of children) {
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Waits until `condition()` is truthy (polled), failing after `timeoutMs` with `what`. Returns the truthy value. */
export async function waitFor(condition, { timeoutMs = 15_000, what = 'condition', intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) {
      return value;
    }

    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }

    await new Promise(r => setTimeout(r, intervalMs));
  }
}

/** Resolves with the first `event` from `client` matching `predicate`, or rejects after `timeoutMs`. */
export function nextEvent(client, event, predicate = () => true, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${event}`));
    }, timeoutMs);
    const off = client.on(event, e => {
      if (predicate(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

export async function freePort() {
  const server = net.createServer();
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise(r => server.close(r));
  return port;
}

/**
 * Starts an EdgeHost process. `embedded: true` co-hosts the silo (edge A); otherwise it is a pure edge joining
 * `siloGatewayPort` (edge B). Resolves once /health/ready answers 200.
 */
export async function startEdge({ name, embedded = true, siloGatewayPort, env = {} }) {
  if (!existsSync(edgeDll)) {
    throw new Error(`${edgeDll} is missing: run "dotnet build EdgeHost -c Debug" (test.sh does)`);
  }

  const port = await freePort();
  const siloPort = await freePort();
  const gatewayPort = await freePort();
  const childEnv = {
    ...process.env,
    ...DEV_AUTH,
    ASPNETCORE_ENVIRONMENT: 'Development',
    ASPNETCORE_URLS: `http://127.0.0.1:${port}`,
    DOTNET_NOLOGO: '1',
    Gateway__Auth__ClockSkew: '00:00:00',
    Gateway__Drain__AdminToken: ADMIN_TOKEN,
    Gateway__Drain__BatchInterval: '00:00:00.100',
    Gateway__Drain__MaxReconnectDelay: '00:00:00.300',
    ...(embedded
      ? { Gateway__Cluster__SiloPort: String(siloPort), Gateway__Cluster__GatewayPort: String(gatewayPort) }
      : { Gateway__EmbeddedSilo: 'false', Gateway__Cluster__GatewayPorts__0: String(siloGatewayPort) }),
    ...env,
  };
  mkdirSync(resultsDir, { recursive: true });
  const log = createWriteStream(join(resultsDir, `edge-${name}-${port}.log`));
  // Content root = the project folder, as with `dotnet run --project EdgeHost`: appsettings and wwwroot are found.
  const child = spawn('dotnet', [edgeDll], { cwd: edgeProjectDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise(r => child.once('exit', (code, signal) => {
    children.delete(child);
    r({ code, signal });
  }));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const http = `http://127.0.0.1:${port}`;
  const edge = {
    name,
    port,
    gatewayPort,
    http,
    ws: `ws://127.0.0.1:${port}/ws`,
    pid: child.pid,
    exited,
    get hasExited() {
      return hasExited;
    },
    signal(sig) {
      child.kill(sig);
    },
    async drain() {
      const response = await fetch(`${http}/admin/drain`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (response.status !== 202) {
        throw new Error(`drain of ${name}: HTTP ${response.status}`);
      }
    },
    /** Stops gracefully (SIGTERM drains), SIGKILL if it takes longer than `timeoutMs`. */
    async stop(timeoutMs = 20_000) {
      if (hasExited) {
        return;
      }

      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  await waitFor(async () => {
    if (hasExited) {
      throw new Error(`edge ${name} exited during startup; see ${log.path}`);
    }

    try {
      return (await fetch(`${http}/health/ready`)).status === 200;
    } catch {
      return false;
    }
  }, { timeoutMs: 60_000, what: `edge ${name} ready`, intervalMs: 100 });
  return edge;
}

/** An HS256 token signed with the development key (issuer ogw-dev, audience ogw). */
export function signToken(sub, { ttlSeconds = 3600, channels = ['*'] } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const encode = value => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT', kid: 'dev' })}.${encode({
    sub, iss: 'ogw-dev', aud: 'ogw', iat: now, nbf: now - 5, exp: now + ttlSeconds, channels,
  })}`;
  return `${body}.${createHmac('sha256', DEV_SECRET).update(body).digest('base64url')}`;
}

let clientCounter = 0;

/** A unique client id per test run (mailboxes outlive test cases within one edge). */
export function uniqueId(prefix) {
  return `${prefix}-${process.pid}-${++clientCounter}-${Date.now() % 100000}`;
}

/**
 * A connected SDK client that records what it gets: `messages` (direct), `publications` (by channel), `events`.
 * `getToken` defaults to a fresh 1 h token per call; `tokens` counts calls.
 */
export async function openClient(id, url, options = {}) {
  const record = { tokens: 0, messages: [], events: [], states: [] };
  const getToken = options.getToken ?? (() => signToken(id));
  const client = connect({
    url,
    WebSocket,
    connectTimeoutMs: 3_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    ...options,
    getToken: async () => {
      record.tokens++;
      return getToken(record.tokens);
    },
  });
  client.onMessage(m => record.messages.push(m));
  for (const event of ['connected', 'reconnecting', 'disconnected', 'unrecovered', 'token', 'error']) {
    client.on(event, e => record.events.push({ event, ...(e instanceof Error ? { message: e.message, code: e.code } : e) }));
  }

  client.on('state', s => record.states.push(s));
  Object.assign(client, { record });
  if (options.waitConnected !== false) {
    await client.whenConnected(15_000);
  }

  return client;
}

/** A loopback TCP proxy to `targetPort` that can cut every connection (`dropAll`) and refuse new ones (`setDown`). */
export async function startProxy(targetPort) {
  const pairs = new Set();
  let down = false;
  const server = net.createServer(client => {
    if (down) {
      client.destroy();
      return;
    }

    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const cut = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    ws: `ws://127.0.0.1:${port}/ws`,
    get connections() {
      return pairs.size;
    },
    dropAll() {
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy?.() ?? client.destroy();
        upstream.destroy();
      }
    },
    setDown(value) {
      down = value;
    },
    close() {
      this.dropAll();
      return new Promise(r => server.close(r));
    },
  };
}

/** Sends `count` messages (awaiting each ok) and returns the acknowledged payload numbers. */
export async function sendNumbered(client, to, from, count, prefix = '') {
  const acked = [];
  for (let i = from; i < from + count; i++) {
    await client.send(to, { n: i, p: prefix });
    acked.push(i);
  }

  return acked;
}
