// Two real edges on one cluster: A co-hosts the silo, B is a pure edge (Orleans client of A's silo). Each test
// takes B down a different way (admin drain, SIGKILL, SIGSTOP) while clients on B keep a conversation going; the
// clients must move to A and miss nothing that was acknowledged.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { nextEvent, openClient, startEdge, uniqueId, waitFor } from '../helpers/gateway.mjs';

let edgeA;
let edgeB;
let clients = [];

before(async () => {
  edgeA = await startEdge({ name: 'A', embedded: true });
});

after(async () => {
  await edgeA?.stop();
});

beforeEach(async () => {
  edgeB = await startEdge({ name: 'B', embedded: false, siloGatewayPort: edgeA.gatewayPort });
});

afterEach(async () => {
  for (const c of clients) {
    c.close();
  }

  clients = [];
  await edgeB?.stop();
});

async function client(id, urls, options) {
  const c = await openClient(id, urls, options);
  clients.push(c);
  return c;
}

/**
 * Sends numbered messages from `sender` to `to` until `stop()` says so: each awaits its ok. Requests whose outcome
 * is unknown (connection_lost) are recorded apart; they may arrive at most once.
 */
function converse(sender, to, tag) {
  const state = { acked: [], unknown: [], failed: [], stopped: false, done: undefined };
  state.done = (async () => {
    for (let n = 1; !state.stopped; n++) {
      try {
        await sender.send(to, { n, tag });
        state.acked.push(n);
      } catch (error) {
        (error.code === 'connection_lost' ? state.unknown : state.failed).push({ n, code: error.code });
      }

      // Pacing (a chat rate, not synchronization): keeps an outage's backlog well inside mailbox retention.
      await new Promise(r => setTimeout(r, 5));
    }
  })();
  return state;
}

/** Every acknowledged message from `tag` arrived exactly once and in order; nothing arrived that was never sent. */
function assertNothingLost(received, conversation, tag) {
  const got = received.filter(m => m.data.tag === tag).map(m => m.data.n);
  const sorted = [...got].sort((x, y) => x - y);
  assert.deepEqual(got, sorted, `${tag}: in send order`);
  assert.equal(new Set(got).size, got.length, `${tag}: no duplicates`);
  const missing = conversation.acked.filter(n => !got.includes(n));
  assert.deepEqual(missing, [], `${tag}: acknowledged but not delivered`);
  const unknown = new Set(conversation.unknown.map(u => u.n));
  const unexpected = got.filter(n => !conversation.acked.includes(n) && !unknown.has(n));
  assert.deepEqual(unexpected, [], `${tag}: delivered but never sent`);
  assert.deepEqual(conversation.failed, [], `${tag}: requests that failed outright`);
}

describe('losing an edge', () => {
  test('drain_EdgeB_ClientsMoveToEdgeAAndMissNothing', async t => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    // Bob and alice start on B; A is their second choice. Carol stays on A the whole time.
    const b = await client(bob, [edgeB.ws, edgeA.ws]);
    const a = await client(alice, [edgeB.ws, edgeA.ws]);
    const c = await client(uniqueId('carol'), [edgeA.ws]);
    assert.equal(b.record.events.find(e => e.event === 'connected').url, edgeB.ws);

    const fromAlice = converse(a, bob, 'alice');
    const fromCarol = converse(c, bob, 'carol');
    await waitFor(() => b.record.messages.length >= 20, { what: 'conversation under way' });
    const bobLeaves = nextEvent(b, 'reconnecting');
    await edgeB.drain();

    const leaving = await bobLeaves;
    assert.equal(leaving.reason, 'bye draining');
    assert.ok(leaving.delayMs <= 300, `reconnect_ms honoured (${leaving.delayMs})`);
    await waitFor(() => b.stats.connects >= 2 && a.stats.connects >= 2, { what: 'both reconnected' });
    const seen = b.record.messages.length;
    await waitFor(() => b.record.messages.length >= seen + 20, { what: 'conversation continues on A' });
    fromAlice.stopped = fromCarol.stopped = true;
    await Promise.all([fromAlice.done, fromCarol.done]);
    await waitFor(() => b.record.messages.filter(m => m.data.tag === 'alice').length >= fromAlice.acked.length
      && b.record.messages.filter(m => m.data.tag === 'carol').length >= fromCarol.acked.length, { what: 'all acknowledged delivered' });

    const reconnected = b.record.events.filter(e => e.event === 'connected').at(-1);
    assert.equal(reconnected.url, edgeA.ws);
    assert.equal(reconnected.resumed, true);
    assert.equal(reconnected.recovered, true);
    t.diagnostic(`bob got ${b.record.messages.length} (${b.stats.replayed} replayed, ${b.stats.duplicates} duplicates dropped); `
      + `alice acked ${fromAlice.acked.length}, unknown ${fromAlice.unknown.length}; carol acked ${fromCarol.acked.length}`);
    assertNothingLost(b.record.messages, fromAlice, 'alice');
    assertNothingLost(b.record.messages, fromCarol, 'carol');
    assert.equal(b.record.events.filter(e => e.event === 'unrecovered').length, 0);
    assert.deepEqual(await edgeB.exited, { code: 0, signal: null }, 'the drained edge exits cleanly');
  });

  test('kill9_PureEdge_ClientReconnectsElsewhereAndNothingAcknowledgedIsLost', async t => {
    const alice = uniqueId('alice');
    const bob = uniqueId('bob');
    const b = await client(bob, [edgeB.ws, edgeA.ws]);
    const a = await client(alice, [edgeB.ws, edgeA.ws]);
    const c = await client(uniqueId('carol'), [edgeA.ws]);
    const fromAlice = converse(a, bob, 'alice');
    const fromCarol = converse(c, bob, 'carol');
    await waitFor(() => b.record.messages.length >= 20, { what: 'conversation under way' });

    edgeB.signal('SIGKILL');
    assert.equal((await edgeB.exited).signal, 'SIGKILL');
    await waitFor(() => b.stats.connects >= 2 && a.stats.connects >= 2, { what: 'both reconnected to A' });
    const seen = b.record.messages.length;
    await waitFor(() => b.record.messages.length >= seen + 20, { what: 'conversation continues on A' });
    fromAlice.stopped = fromCarol.stopped = true;
    await Promise.all([fromAlice.done, fromCarol.done]);
    await waitFor(() => b.record.messages.filter(m => m.data.tag === 'alice').length >= fromAlice.acked.length
      && b.record.messages.filter(m => m.data.tag === 'carol').length >= fromCarol.acked.length, { what: 'all acknowledged delivered' });

    assert.equal(b.record.events.filter(e => e.event === 'connected').at(-1).url, edgeA.ws);
    assert.match(b.record.events.find(e => e.event === 'reconnecting').reason, /close 1006/);
    t.diagnostic(`bob got ${b.record.messages.length} (${b.stats.replayed} replayed, ${b.stats.duplicates} duplicates dropped); `
      + `alice acked ${fromAlice.acked.length}, unknown ${fromAlice.unknown.length}; carol acked ${fromCarol.acked.length}`);
    assertNothingLost(b.record.messages, fromAlice, 'alice');
    assertNothingLost(b.record.messages, fromCarol, 'carol');
    assert.equal(b.record.events.filter(e => e.event === 'unrecovered').length, 0);
  });

  test('heartbeat_EdgeSilentlyFrozen_DeadConnectionDetectedAndClientMovesOn', async () => {
    const bob = uniqueId('bob');
    const b = await client(bob, [edgeB.ws, edgeA.ws], { heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1_000, connectTimeoutMs: 2_000 });
    const c = await client(uniqueId('carol'), [edgeA.ws]);
    await c.send(bob, { n: 1, tag: 'carol' });
    await waitFor(() => b.record.messages.length === 1, { what: 'first message via B' });
    const detected = nextEvent(b, 'reconnecting', () => true, 10_000);

    // SIGSTOP: the TCP connection stays up, nothing answers. Only the client's own heartbeat can tell.
    const frozenAt = Date.now();
    edgeB.signal('SIGSTOP');
    try {
      const event = await detected;
      const elapsed = Date.now() - frozenAt;
      assert.equal(event.reason, 'heartbeat timeout');
      assert.ok(elapsed < 4_000, `detected within interval + timeout (took ${elapsed} ms)`);
      await c.send(bob, { n: 2, tag: 'carol' });
      await c.send(bob, { n: 3, tag: 'carol' });
      await waitFor(() => b.record.messages.length === 3, { what: 'messages after moving to A' });

      assert.equal(b.record.events.filter(e => e.event === 'connected').at(-1).url, edgeA.ws);
      assert.deepEqual(b.record.messages.map(m => m.data.n), [1, 2, 3]);
    } finally {
      edgeB.signal('SIGCONT');
    }
  });
});
