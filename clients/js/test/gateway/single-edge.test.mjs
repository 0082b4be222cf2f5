// The SDK against one real EdgeHost (embedded silo), with a TCP proxy in front to cut connections.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../../dist/index.js';
import { nextEvent, openClient, sendNumbered, signToken, startEdge, startProxy, uniqueId, waitFor } from '../helpers/gateway.mjs';

let edge;
const cleanup = [];

before(async () => {
  // Channel history kept short so one test can push a subscriber out of retention.
  edge = await startEdge({ name: 'single', env: { Gateway__Channel__MaxMessages: '20' } });
});

after(async () => {
  for (const fn of cleanup.reverse()) {
    await fn();
  }

  await edge?.stop();
});

async function client(id, url, options) {
  const c = await openClient(id, url, options);
  cleanup.push(() => c.close());
  return c;
}

async function proxy() {
  const p = await startProxy(edge.port);
  cleanup.push(() => p.close());
  return p;
}

const numbers = messages => messages.map(m => m.data.n);

describe('direct messages', () => {
  test('send_TwoClients_ReceiverGetsEachMessageInOrderAndSendResolvesOnOk', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const a = await client(alice, edge.ws);
    const b = await client(bob, edge.ws);

    const acked = await sendNumbered(a, bob, 1, 20);
    await waitFor(() => b.record.messages.length >= 20, { what: 'bob gets 20 messages' });

    assert.deepEqual(numbers(b.record.messages), acked);
    assert.ok(b.record.messages.every(m => m.from === alice && m.replayed === false));
    assert.deepEqual(b.record.messages.map(m => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(a.state, 'connected');
  });

  test('send_InvalidRecipient_RejectsWithGatewayErrorCode', async () => {
    const a = await client(uniqueId('alice'), edge.ws);

    const error = await a.send('not a valid id!', 'x').then(() => null, e => e);

    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${error}`);
    assert.equal(error.code, 'bad_request');
  });

  test('reconnect_ServerDropsSocket_ResumesWithoutLossOrDuplicates', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const p = await proxy();
    const a = await client(alice, edge.ws);
    const b = await client(bob, p.ws);
    const acked = await sendNumbered(a, bob, 1, 5);
    await waitFor(() => b.record.messages.length >= 5, { what: 'first 5 messages' });

    // Cut bob's TCP connection and keep him out while alice sends more (acknowledged: in bob's mailbox).
    p.setDown(true);
    const reconnecting = nextEvent(b, 'reconnecting');
    p.dropAll();
    assert.match((await reconnecting).reason, /close 1006/);
    acked.push(...await sendNumbered(a, bob, 6, 10));
    p.setDown(false);
    await waitFor(() => b.stats.connects >= 2, { what: 'bob resumes' });
    acked.push(...await sendNumbered(a, bob, 16, 5));

    // A second, abrupt drop while live messages flow.
    const more = sendNumbered(a, bob, 21, 30);
    await waitFor(() => b.record.messages.length >= 25, { what: 'some live messages after resume' });
    p.dropAll();
    acked.push(...await more);
    await waitFor(() => b.stats.connects >= 3, { what: 'bob resumes again' });
    acked.push(...await sendNumbered(a, bob, 51, 5));
    await waitFor(() => b.record.messages.length >= acked.length, { what: `bob gets all ${acked.length} messages` });

    assert.deepEqual(numbers(b.record.messages), acked, 'every acknowledged message exactly once, in order');
    assert.ok(b.record.messages.filter(m => m.replayed).length >= 10, 'the 10 sent while away came from the replay');
    assert.equal(b.record.events.filter(e => e.event === 'unrecovered').length, 0);
  });

  test('send_WhileReconnectingAndQueueFull_RejectsWithQueueFullThenDeliversQueued', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const p = await proxy();
    const b = await client(bob, edge.ws);
    const a = await client(alice, p.ws, { maxQueue: 3, requestTimeoutMs: 30_000 });
    p.setDown(true);
    const reconnecting = nextEvent(a, 'reconnecting');
    p.dropAll();
    await reconnecting;

    const queued = [1, 2, 3].map(n => a.send(bob, { n }));
    const overflow = await a.send(bob, { n: 4 }).then(() => null, e => e);

    assert.ok(overflow instanceof GatewayError);
    assert.equal(overflow.code, 'queue_full');
    assert.match(overflow.message, /queue is full/);
    p.setDown(false);
    await Promise.all(queued);
    await waitFor(() => b.record.messages.length >= 3, { what: 'queued messages delivered' });
    assert.deepEqual(numbers(b.record.messages), [1, 2, 3]);
  });

  test('send_NeverConnected_RejectsWithTimeout', async () => {
    const p = await proxy();
    p.setDown(true);
    const a = await client(uniqueId('alice'), p.ws, { requestTimeoutMs: 500, waitConnected: false });

    const error = await a.send('bob', 1).then(() => null, e => e);

    assert.equal(error?.code, 'timeout');
    assert.notEqual(a.state, 'connected');
  });

  test('welcome_LastSeqAboveMailbox_EmitsUnrecoveredAndResetsCursor', async () => {
    const bob = uniqueId('bob');
    const a = await client(uniqueId('alice'), edge.ws);
    const b = await client(bob, edge.ws, { lastSeq: 500 });
    const first = b.record.events.find(e => e.event === 'unrecovered');

    assert.deepEqual(first, { event: 'unrecovered', scope: 'mailbox', lastSeq: 500, seq: 0 });
    await a.send(bob, { n: 1 });
    await waitFor(() => b.record.messages.length === 1, { what: 'message after the cursor reset' });
    assert.equal(b.record.messages[0].seq, 1);
    assert.equal(b.seq, 1);
  });
});

describe('channels', () => {
  test('subscribe_ReconnectWithSince_ReplaysMissedHistoryOnceInOrder', async () => {
    const ch = `room:${uniqueId('r')}`;
    const p = await proxy();
    const pub = await client(uniqueId('pub'), edge.ws);
    const sub = await client(uniqueId('sub'), p.ws);
    const got = [];
    const result = await sub.subscribe(ch, m => got.push(m));
    assert.deepEqual(result, { off: 0, recovered: true });

    for (let n = 1; n <= 5; n++) {
      await pub.publish(ch, { n });
    }

    await waitFor(() => got.length >= 5, { what: '5 live publications' });
    p.setDown(true);
    const reconnecting = nextEvent(sub, 'reconnecting');
    p.dropAll();
    await reconnecting;
    for (let n = 6; n <= 12; n++) {
      await pub.publish(ch, { n });
    }

    p.setDown(false);
    await waitFor(() => got.length >= 12, { what: 'the 7 missed publications' });
    await pub.publish(ch, { n: 13 });
    await waitFor(() => got.length >= 13, { what: 'live again' });

    assert.deepEqual(got.map(m => m.data.n), Array.from({ length: 13 }, (_, i) => i + 1));
    assert.deepEqual(got.map(m => m.off), Array.from({ length: 13 }, (_, i) => i + 1));
    assert.deepEqual(got.filter(m => m.replayed).map(m => m.off), [6, 7, 8, 9, 10, 11, 12]);
    assert.equal(sub.record.events.filter(e => e.event === 'unrecovered').length, 0);

    // A newcomer asks for history explicitly with since.
    const late = await client(uniqueId('late'), edge.ws);
    const lateGot = [];
    const lateResult = await late.subscribe(ch, m => lateGot.push(m), { since: 10 });
    assert.deepEqual(lateResult, { off: 13, recovered: true });
    await waitFor(() => lateGot.length >= 3, { what: 'history after since=10' });
    assert.deepEqual(lateGot.map(m => m.off), [11, 12, 13]);
    assert.ok(lateGot.every(m => m.replayed));
  });

  test('unsubscribe_ThenPublish_HandlerNotCalled', async () => {
    const ch = `room:${uniqueId('r')}`;
    const pub = await client(uniqueId('pub'), edge.ws);
    const leaving = await client(uniqueId('leaving'), edge.ws);
    const staying = await client(uniqueId('staying'), edge.ws);
    const left = [];
    const stayed = [];
    await leaving.subscribe(ch, m => left.push(m));
    await staying.subscribe(ch, m => stayed.push(m));
    await pub.publish(ch, 'one');
    await waitFor(() => left.length === 1 && stayed.length === 1, { what: 'both get the first publication' });

    await leaving.unsubscribe(ch);
    await pub.publish(ch, 'two');
    await waitFor(() => stayed.length === 2, { what: 'the staying subscriber gets the second' });
    // A round trip on the leaving client's socket after the publication was fanned out.
    await leaving.send(uniqueId('nobody'), 'flush');

    assert.deepEqual(left.map(m => m.data), ['one']);
  });

  test('subscribe_HistoryLostToRetention_EmitsUnrecoveredForTheChannel', async () => {
    const ch = `room:${uniqueId('r')}`;
    const p = await proxy();
    const pub = await client(uniqueId('pub'), edge.ws);
    const sub = await client(uniqueId('sub'), p.ws);
    const got = [];
    await sub.subscribe(ch, m => got.push(m));
    await pub.publish(ch, { n: 1 });
    await waitFor(() => got.length === 1, { what: 'first publication' });
    p.setDown(true);
    const reconnecting = nextEvent(sub, 'reconnecting');
    p.dropAll();
    await reconnecting;
    // The edge keeps 20 per channel: 30 more push offset 2..11 out of retention.
    for (let n = 2; n <= 31; n++) {
      await pub.publish(ch, { n });
    }

    const unrecovered = nextEvent(sub, 'unrecovered');
    p.setDown(false);

    assert.deepEqual(await unrecovered, { scope: 'channel', ch, since: 1, off: 31 });
    await waitFor(() => got.at(-1)?.off === 31, { what: 'the retained tail' });
    const offs = got.map(m => m.off);
    assert.deepEqual(offs, [...new Set(offs)].sort((x, y) => x - y), 'no duplicates, in order');
    assert.ok(offs.length < 31, 'some were really lost to retention');
  });
});

describe('tokens', () => {
  test('refresh_BeforeExpiry_ViaAuthFrame_SessionOutlivesFirstToken', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const shortExp = Math.floor(Date.now() / 1000) + 4;
    // The first token lives 4 s (the edge's clock skew is 0 here); later ones 1 h.
    const a = await client(alice, edge.ws, {
      refreshMarginMs: 2_000,
      getToken: n => (n === 1 ? signToken(alice, { ttlSeconds: 4 }) : signToken(alice)),
    });
    const b = await client(bob, edge.ws);

    const refreshed = await nextEvent(a, 'token', e => e.via === 'auth', 10_000);
    assert.ok(refreshed.expiresAt > Date.now() + 3_000_000);
    assert.equal(a.stats.tokenRefreshes, 1);
    // Past the first token's exp (plus a margin for the edge's timer): the session must still be the same one.
    await waitFor(() => Date.now() > shortExp * 1000 + 1_500, { what: 'the first token to expire', timeoutMs: 10_000 });
    await a.send(bob, { n: 1 });
    await waitFor(() => b.record.messages.length === 1, { what: 'delivery after the old expiry' });

    assert.equal(a.stats.connects, 1, 'no reconnect was needed');
    assert.equal(a.record.events.filter(e => e.event === 'reconnecting').length, 0);
    assert.equal(a.record.tokens, 2);
  });

  test('tokenExpired_WithoutInBandRefresh_ReconnectsWithFreshTokenAndLosesNothing', async () => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const a = await client(alice, edge.ws);
    const b = await client(bob, edge.ws, {
      inBandRefresh: false,
      getToken: n => (n === 1 ? signToken(bob, { ttlSeconds: 2 }) : signToken(bob)),
    });
    const acked = await sendNumbered(a, bob, 1, 3);

    const reconnecting = await nextEvent(b, 'reconnecting', () => true, 10_000);
    assert.equal(reconnecting.reason, 'bye token_expired');
    assert.equal(reconnecting.delayMs, 0);
    acked.push(...await sendNumbered(a, bob, 4, 3));
    await waitFor(() => b.stats.connects >= 2, { what: 'bob reconnects with a fresh token' });
    acked.push(...await sendNumbered(a, bob, 7, 3));
    await waitFor(() => b.record.messages.length >= 9, { what: 'all 9 messages' });

    assert.deepEqual(numbers(b.record.messages), acked);
    assert.equal(b.record.tokens, 2);
    assert.equal(b.stats.connects, 2);
  });
});
