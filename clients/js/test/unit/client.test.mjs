// The SDK against a scripted in-memory server: cases a real gateway rarely produces on demand (duplicate
// deliveries, a server without the auth extension, bye replaced) and exact checks of what the client sends.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { backoffDelay, connect, GatewayError, tokenExpiryMs } from '../../dist/index.js';
import { nextEvent, waitFor } from '../helpers/gateway.mjs';

/** A fake WebSocket class plus the list of sockets the client opened; tests play the server. */
function fakeServer({ onFrame } = {}) {
  const sockets = [];
  class FakeSocket {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.readyState = 1;
      this.sent = [];
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
    }

    send(text) {
      const frame = JSON.parse(text);
      this.sent.push(frame);
      onFrame?.(this, frame);
    }

    close(code = 1005) {
      this.drop(code);
    }

    // server side
    push(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }

    welcome(seq = 0, recovered = true) {
      this.push({ t: 'welcome', client: 'me', seq, recovered, hb: 25 });
    }

    drop(code = 1006) {
      if (this.readyState === 3) {
        return;
      }

      this.readyState = 3;
      queueMicrotask(() => this.onclose?.({ code, reason: '' }));
    }
  }

  return { FakeSocket, sockets, last: () => sockets.at(-1) };
}

function fakeJwt(payload) {
  const enc = o => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256' })}.${enc(payload)}.sig`;
}

const created = [];
// A failed assertion must not leave a client reconnecting forever (it would keep the test process alive).
afterEach(() => created.splice(0).forEach(c => c.close()));

function client(server, options = {}) {
  const c = connect({
    url: 'ws://edge-1.test/ws',
    getToken: () => 'token',
    WebSocket: server.FakeSocket,
    backoff: { initialMs: 1, maxMs: 5 },
    ...options,
  });
  created.push(c);
  const messages = [];
  c.onMessage(m => messages.push(m));
  return { c, messages };
}

const opened = (server, count) => waitFor(() => server.sockets.length >= count, { what: `${count} socket(s)`, timeoutMs: 5_000 });

describe('de-duplication and resume', () => {
  test('messages_DuplicateSeqs_DeliveredOnceAndResumeSendsLastSeq', async () => {
    const server = fakeServer();
    const { c, messages } = client(server);
    await opened(server, 1);
    const first = server.last();
    assert.ok(!new URL(first.url).searchParams.has('last_seq'), 'a fresh start has no last_seq');
    assert.equal(new URL(first.url).searchParams.get('access_token'), 'token');
    assert.equal(first.protocol, 'ogw.v1.json');
    first.welcome(0);
    for (const seq of [1, 2, 2, 1, 3]) {
      first.push({ t: 'msg', seq, from: 'x', data: seq });
    }

    first.drop();
    await opened(server, 2);
    const second = server.last();
    assert.equal(new URL(second.url).searchParams.get('last_seq'), '3');
    second.welcome(5);
    for (const seq of [3, 4, 5, 6]) {
      second.push({ t: 'msg', seq, from: 'x', data: seq });
    }

    assert.deepEqual(messages.map(m => [m.seq, m.replayed]), [[1, false], [2, false], [3, false], [4, true], [5, true], [6, false]]);
    assert.equal(c.stats.duplicates, 3);
    assert.equal(c.stats.replayed, 2);
    assert.equal(c.seq, 6);
    c.close();
  });

  test('channel_Reconnect_ResubscribesWithSinceAndDropsDuplicateOffsets', async () => {
    const server = fakeServer({ onFrame: (ws, f) => f.t === 'sub' && ws.push({ t: 'ok', id: f.id, off: f.since === undefined ? 10 : 14, recovered: true }) });
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);
    const got = [];
    assert.deepEqual(await c.subscribe('room:1', p => got.push(p)), { off: 10, recovered: true });
    for (const off of [11, 11, 12]) {
      server.last().push({ t: 'pub', ch: 'room:1', off, from: 'x', data: off });
    }

    server.last().drop();
    await opened(server, 2);
    server.last().welcome(0);
    const resub = server.last().sent.find(f => f.t === 'sub');
    assert.deepEqual({ ch: resub.ch, since: resub.since }, { ch: 'room:1', since: 12 });
    for (const off of [12, 13, 14, 15]) {
      server.last().push({ t: 'pub', ch: 'room:1', off, from: 'x', data: off });
    }

    assert.deepEqual(got.map(p => [p.off, p.replayed]), [[11, false], [12, false], [13, true], [14, true], [15, false]]);
    c.close();
  });

  test('welcome_NotRecovered_EmitsUnrecoveredForTheMailbox', async () => {
    const server = fakeServer();
    const { c } = client(server, { lastSeq: 40 });
    await opened(server, 1);
    const event = nextEvent(c, 'unrecovered');
    server.last().welcome(55, false);

    assert.deepEqual(await event, { scope: 'mailbox', lastSeq: 40, seq: 55 });
    c.close();
  });
});

describe('presence', () => {
  test('presence_SubWithPresence_SendsFlagQueriesPageAndEmitsJoinLeave', async () => {
    const server = fakeServer({
      onFrame: (ws, f) => {
        if (f.t === 'sub') {
          ws.push({ t: 'ok', id: f.id, off: 0, recovered: true });
        } else if (f.t === 'presence') {
          ws.push({ t: 'ok', id: f.id, total: 3, members: [{ client: 'alice', sessions: 2 }], next: 'alice' });
        }
      },
    });
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);
    const events = [];
    c.onPresence(e => events.push(e));
    await c.subscribe('room:1', () => undefined, { presence: true });
    await c.subscribe('room:2', () => undefined);
    const page = await c.presence('room:1', { after: 'aaron' });
    server.last().push({ t: 'join', ch: 'room:1', client: 'bob' });
    server.last().push({ t: 'leave', ch: 'room:1', client: 'bob' });
    server.last().push({ t: 'join', ch: 'room:2', client: 'carol' }); // not subscribed with presence: ignored

    const sent = server.last().sent;
    assert.equal(sent.find(f => f.t === 'sub' && f.ch === 'room:1').presence, true);
    assert.equal(sent.find(f => f.t === 'sub' && f.ch === 'room:2').presence, undefined);
    assert.deepEqual({ ...sent.find(f => f.t === 'presence'), id: undefined }, { t: 'presence', ch: 'room:1', after: 'aaron', id: undefined });
    assert.deepEqual(page, { total: 3, members: [{ client: 'alice', sessions: 2 }], next: 'alice' });
    assert.deepEqual(events, [{ type: 'join', ch: 'room:1', client: 'bob' }, { type: 'leave', ch: 'room:1', client: 'bob' }]);
    c.close();
  });
});

describe('requests', () => {
  test('send_OkAndErr_SettlePromisesByIdWithErrorCode', async () => {
    const server = fakeServer({ onFrame: (ws, f) => f.t === 'send' && ws.push(f.to === 'bob' ? { t: 'ok', id: f.id } : { t: 'err', id: f.id, code: 'forbidden', msg: 'no' }) });
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);

    await c.send('bob', { hi: 1 });
    const error = await c.send('eve', 1).catch(e => e);

    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'forbidden');
    assert.deepEqual(server.last().sent.map(f => f.t), ['send', 'send']);
    assert.notEqual(server.last().sent[0].id, server.last().sent[1].id);
    c.close();
  });

  test('send_ConnectionEndsBeforeOk_ResentWithSameKeysInOrderBeforeNewOnesAndSettledOnce', async () => {
    const server = fakeServer();
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);

    const settled = [];
    const track = (p, name) => p.then(v => settled.push([name, v]), e => settled.push([name, e.code]));
    const first = [track(c.send('bob', 1), 's1'), track(c.publish('room', 2), 'p2'), track(c.up('orders', 3), 'u3')];
    const firstFrames = server.last().sent;
    assert.deepEqual(firstFrames.map(f => f.t), ['send', 'pub', 'up']);
    assert.ok(firstFrames.every(f => typeof f.key === 'string' && f.key.length >= 1 && f.key.length <= 64), 'every request carries a key');
    assert.equal(new Set(firstFrames.map(f => f.key)).size, 3, 'keys are unique');
    server.last().drop(); // none answered: the gateway may have taken any of them

    await opened(server, 2);
    const later = track(c.send('bob', 4), 's4'); // made while reconnecting: after the re-sent ones
    const second = server.last();
    second.welcome(0);
    assert.deepEqual(second.sent.map(f => [f.t, f.key, f.data]),
      [...firstFrames.map(f => [f.t, f.key, f.data]), ['send', second.sent[3]?.key, 4]]);
    second.push({ t: 'ok', id: second.sent[0].id, seq: 7, dup: true }); // it had been taken before the drop
    second.push({ t: 'ok', id: second.sent[1].id, off: 3 });
    second.push({ t: 'ok', id: second.sent[2].id });
    second.push({ t: 'ok', id: second.sent[3].id, seq: 8 });
    second.push({ t: 'ok', id: second.sent[0].id, seq: 7, dup: true }); // a stray second answer changes nothing
    await Promise.all([...first, later]);

    assert.deepEqual(settled, [
      ['s1', { key: firstFrames[0].key, dup: true, seq: 7 }],
      ['p2', { key: firstFrames[1].key, dup: false, off: 3 }],
      ['u3', { key: firstFrames[2].key, dup: false }],
      ['s4', { key: second.sent[3].key, dup: false, seq: 8 }],
    ]);
    c.close();
  });

  test('send_ErrUnavailable_RetriedWithSameKeyAfterBackoffUntilOk', async () => {
    let answers = 0;
    const server = fakeServer({
      onFrame: (ws, f) => f.t === 'send' && queueMicrotask(() => ws.push(++answers < 3 ? { t: 'err', id: f.id, code: 'unavailable', msg: 'retry' } : { t: 'ok', id: f.id, seq: 1 })),
    });
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);

    const result = await c.send('bob', 'x', { key: 'my-key-1' });

    assert.deepEqual(result, { key: 'my-key-1', dup: false, seq: 1 });
    assert.deepEqual(server.last().sent.map(f => [f.t, f.key, f.data]), [['send', 'my-key-1', 'x'], ['send', 'my-key-1', 'x'], ['send', 'my-key-1', 'x']]);
    c.close();
  });

  test('send_NotTakenWithinDeadline_RejectsWithTimeoutOnce', async () => {
    const server = fakeServer({ onFrame: (ws, f) => f.t === 'send' && queueMicrotask(() => ws.push({ t: 'err', id: f.id, code: 'unavailable', msg: 'retry' })) });
    const { c } = client(server, { requestTimeoutMs: 60_000 });
    await opened(server, 1);
    server.last().welcome(0);

    const started = Date.now();
    const error = await c.send('bob', 1, { deadlineMs: 150 }).catch(e => e);

    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'timeout');
    assert.ok(Date.now() - started >= 140, 'not before the per-call deadline');
    const attempts = server.last().sent.length;
    assert.ok(attempts >= 2, `retried before giving up (${attempts} attempts)`);
    await new Promise(resolve => setTimeout(resolve, 50));
    assert.equal(server.last().sent.length, attempts, 'nothing is sent after the deadline');
    c.close();
  });

  test('send_InvalidRequest_RejectedAtOnceAndNotRetried', async () => {
    const server = fakeServer({ onFrame: (ws, f) => ws.push({ t: 'err', id: f.id, code: 'bad_request', msg: 'key reused with other data' }) });
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);

    for (const key of ['', 'k'.repeat(65), 42]) {
      assert.equal((await c.send('bob', 1, { key }).catch(e => e)).code, 'bad_request', `key ${JSON.stringify(key)}`);
    }

    assert.equal(server.last().sent.length, 0, 'an invalid key is never sent');
    assert.equal((await c.publish('room', 1, { key: 'k'.repeat(64) }).catch(e => e)).code, 'bad_request');
    assert.equal(server.last().sent.length, 1, 'bad_request is final');
    c.close();
  });

  test('send_QueuedWhileReconnecting_SentInOrderAfterWelcome', async () => {
    const server = fakeServer({ onFrame: (ws, f) => ws.push({ t: 'ok', id: f.id }) });
    const { c } = client(server, { maxQueue: 2 });
    await opened(server, 1);

    const queued = [c.send('bob', 1), c.publish('room', 2)];
    const full = await c.up('orders', 3).catch(e => e);
    assert.equal(full.code, 'queue_full');
    assert.equal(server.last().sent.length, 0, 'nothing is written before welcome');
    server.last().welcome(0);
    await Promise.all(queued);

    assert.deepEqual(server.last().sent.map(f => [f.t, f.data]), [['send', 1], ['pub', 2]]);
    c.close();
    assert.equal((await c.send('bob', 4).catch(e => e)).code, 'closed');
  });
});

describe('reconnect policy', () => {
  test('bye_DrainingWithReconnectMs_HonouredAndNextUrlUsed', async () => {
    const server = fakeServer();
    const { c } = client(server, { url: ['ws://edge-1.test/ws', 'ws://edge-2.test/ws'] });
    await opened(server, 1);
    server.last().welcome(0);
    const reconnecting = nextEvent(c, 'reconnecting');
    server.last().push({ t: 'bye', code: 'draining', reconnect_ms: 37 });
    server.last().drop(1012);

    const event = await reconnecting;
    assert.deepEqual({ reason: event.reason, delayMs: event.delayMs }, { reason: 'bye draining', delayMs: 37 });
    await opened(server, 2);
    assert.match(server.last().url, /^ws:\/\/edge-2\.test\/ws\?/);
    c.close();
  });

  test('bye_Replaced_DisconnectsForGood', async () => {
    const server = fakeServer();
    const { c } = client(server);
    await opened(server, 1);
    server.last().welcome(0);
    const disconnected = nextEvent(c, 'disconnected');
    server.last().push({ t: 'bye', code: 'replaced' });
    server.last().drop(1008);

    assert.equal((await disconnected).reason, 'bye replaced');
    assert.equal(c.state, 'disconnected');
    assert.equal(server.sockets.length, 1);
  });

  test('failedAttempts_BackoffGrowsWithFullJitterAndIsCapped', async () => {
    const server = fakeServer();
    const { c } = client(server, { backoff: { initialMs: 2, maxMs: 16, factor: 2 } });
    const events = [];
    c.on('reconnecting', e => events.push(e));
    // Every attempt is refused before welcome.
    await waitFor(() => {
      server.last()?.drop();
      return events.length >= 7;
    }, { what: '7 failed attempts', timeoutMs: 5_000, intervalMs: 1 });
    c.close();

    assert.deepEqual(events.slice(0, 7).map(e => e.attempt), [0, 1, 2, 3, 4, 5, 6]);
    events.slice(0, 7).forEach((e, k) => assert.ok(e.delayMs >= 0 && e.delayMs <= Math.min(16, 2 * 2 ** k), `attempt ${k}: ${e.delayMs}`));
    assert.equal(backoffDelay(10, { initialMs: 250, maxMs: 30_000, factor: 2 }, () => 0.999999), 30_000);
    assert.equal(backoffDelay(0, { initialMs: 250, maxMs: 30_000, factor: 2 }, () => 0), 0);
    assert.equal(backoffDelay(2, { initialMs: 250, maxMs: 30_000, factor: 2 }, () => 0.5), 500);
  });

  test('heartbeat_NoAnswerToPing_ConnectionDeclaredDead', async () => {
    let answer = true;
    const server = fakeServer({ onFrame: (ws, f) => f.t === 'ping' && answer && ws.push({ t: 'pong', id: f.id }) });
    const { c } = client(server, { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60 });
    await opened(server, 1);
    server.last().welcome(0);
    const reconnecting = [];
    c.on('reconnecting', e => reconnecting.push(e));
    await waitFor(() => server.last().sent.filter(f => f.t === 'ping').length >= 4, { what: '4 answered pings' });
    assert.equal(reconnecting.length, 0, 'answered pings keep the connection');

    answer = false;
    const event = await nextEvent(c, 'reconnecting', () => true, 5_000);
    assert.equal(event.reason, 'heartbeat timeout');
    c.close();
  });
});

describe('tokens', () => {
  test('refresh_ServerWithoutAuthExtension_FallsBackToReconnecting', async () => {
    let calls = 0;
    const server = fakeServer({ onFrame: (ws, f) => f.t === 'auth' && ws.push({ t: 'err', id: f.id, code: 'bad_request', msg: 'unknown frame type' }) });
    const { c } = client(server, {
      refreshMarginMs: 60_000,
      getToken: () => fakeJwt({ sub: 'me', exp: Math.floor(Date.now() / 1000) + (++calls === 1 ? 1 : 3600) }),
    });
    await opened(server, 1);
    server.last().welcome(0);

    const event = await nextEvent(c, 'reconnecting', () => true, 5_000);
    assert.equal(event.reason, 'token refresh by reconnecting');
    assert.equal(server.sockets[0].sent.filter(f => f.t === 'auth').length, 1);
    await opened(server, 2);
    assert.ok(calls >= 3, 'one token for the auth frame, one for the new connection');
    c.close();
  });

  test('tokenExpiryMs_ReadsExpFromPayload', () => {
    assert.equal(tokenExpiryMs(fakeJwt({ exp: 1700000000, name: 'Zoë ✓' })), 1700000000 * 1000);
    assert.equal(tokenExpiryMs(fakeJwt({ sub: 'x' })), undefined);
    assert.equal(tokenExpiryMs('not-a-jwt'), undefined);
    assert.equal(tokenExpiryMs('a.%%%.c'), undefined);
  });
});
