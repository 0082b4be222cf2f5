// The demo chat page in headless Chromium: alice's page on edge A, bob's on edge B (the pure edge). Edge B is drained
// in the middle of the conversation; bob's page moves to A (through a TCP proxy the test holds shut for a moment, so
// alice's next lines certainly arrive while bob is away), and both pages end up showing every message exactly once,
// in order (per conversation: the direct messages, the lobby). Screenshots go to test-results/ (and docs/images/demo-chat.png with OGW_UPDATE_SCREENSHOT=1).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { repoRoot, resultsDir, startEdge, startProxy } from '../helpers/gateway.mjs';

const CHROMIUM = process.env.OGW_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = { timeout: 15_000 };

let edgeA;
let edgeB;
let browser;
let proxyA;

before(async () => {
  edgeA = await startEdge({ name: 'browser-A', embedded: true });
  edgeB = await startEdge({ name: 'browser-B', embedded: false, siloGatewayPort: edgeA.gatewayPort });
  proxyA = await startProxy(edgeA.port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await proxyA?.close();
  await edgeB?.stop();
  await edgeA?.stop();
});

async function openChat(url, name) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
  // The browser itself logs each refused WebSocket attempt during the deliberate outage; anything else is a problem.
  page.on('console', m => m.type() === 'error' && !m.text().startsWith('WebSocket connection to') && problems.push(`console: ${m.text()}`));
  await page.goto(url);
  await page.fill('#name', name);
  await page.click('#login button');
  await page.waitForSelector('#state[data-state="connected"]', WAIT);
  await page.fill('#room', 'lobby');
  await page.press('#room', 'Enter');
  await page.waitForSelector('#rooms li[data-room="lobby"][data-joined="true"]', WAIT);
  return { page, problems };
}

/** Types a message the way a user does: target, text, Enter. */
async function say(page, to, text) {
  await page.fill('#to', to);
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

function shows(page, text) {
  return page.waitForFunction(
    t => [...document.querySelectorAll('#log li[data-id]')].some(li => li.querySelector('.text').textContent === t && !li.classList.contains('pending')),
    text,
    WAIT);
}

function transcript(page) {
  return page.$$eval('#log li[data-id]', items => items.map(li => ({
    kind: li.dataset.kind,
    from: li.dataset.from,
    text: li.querySelector('.text').textContent,
    state: li.classList.contains('failed') ? 'failed' : li.classList.contains('pending') ? 'pending' : 'ok',
  })));
}

test('demoChat_EdgeDrainedMidConversation_BothPagesShowEveryMessageOnceInOrder', async t => {
  // Fresh edges: plain names.
  const alice = 'alice';
  const bob = 'bob';
  const a = await openChat(`${edgeA.http}/`, alice);
  const b = await openChat(`${edgeB.http}/?edges=${encodeURIComponent(`${edgeB.ws},${proxyA.ws}`)}`, bob);
  assert.equal(await b.page.getAttribute('#edge', 'data-url'), edgeB.ws, 'bob starts on edge B');
  assert.equal(await a.page.getAttribute('#edge', 'data-url'), `ws://127.0.0.1:${edgeA.port}/ws`);

  const expected = [];
  /** One line of the conversation; waits until it is on both pages (or only on the sender's, when `onlySender`). */
  async function line(from, fromId, to, text, { onlySender = false } = {}) {
    await say(from.page, to, text);
    expected.push({ kind: to.startsWith('#') ? 'room' : 'dm', from: fromId, text, state: 'ok' });
    await Promise.all(onlySender ? [shows(from.page, text)] : [shows(a.page, text), shows(b.page, text)]);
  }

  await line(a, alice, bob, 'hi bob');
  await line(b, bob, alice, 'hi alice, how are things?');
  await line(a, alice, '#lobby', 'anyone else in the lobby?');
  await line(b, bob, '#lobby', 'just us two');
  await line(a, alice, bob, 'deploy starts in a minute');

  // Edge B drains; bob's page is told to reconnect and cannot get through until the proxy opens.
  proxyA.setDown(true);
  await edgeB.drain();
  await b.page.waitForSelector('#state[data-state="reconnecting"]', WAIT);
  await line(a, alice, bob, 'is edge B gone?', { onlySender: true });
  await line(a, alice, '#lobby', 'lobby, are you there?', { onlySender: true });
  await line(a, alice, bob, 'you will get these when you are back', { onlySender: true });
  assert.equal(await b.page.getAttribute('#state', 'data-state'), 'reconnecting');
  proxyA.setDown(false);
  for (const text of ['is edge B gone?', 'lobby, are you there?', 'you will get these when you are back']) {
    await shows(b.page, text);
  }

  await line(b, bob, alice, 'back, on edge A now');
  await line(b, bob, '#lobby', 'the lobby followed me');
  await line(a, alice, bob, 'did you miss anything?');
  await line(b, bob, alice, 'nothing: every message once, in order');

  // Order is guaranteed per stream (docs/protocol.md, Guarantees §1): the direct messages between them, and the lobby. Across the two,
  // a resume delivers the mailbox replay before the channel's, so they are compared stream by stream — and in full,
  // so nothing is missing or shown twice.
  for (const [who, page] of [["alice's page", a.page], ["bob's page", b.page]]) {
    const shown = await transcript(page);
    for (const kind of ['dm', 'room']) {
      assert.deepEqual(shown.filter(m => m.kind === kind), expected.filter(m => m.kind === kind), `${who}: ${kind} messages`);
    }

    assert.equal(shown.length, expected.length, `${who}: nothing else shown`);
  }

  const bobStates = await b.page.evaluate(() => window.ogwDemo.states);
  assert.deepEqual(bobStates, ['connecting', 'connected', 'reconnecting', 'connected'], "bob's connection states");
  assert.equal(await b.page.getAttribute('#edge', 'data-url'), proxyA.ws, 'bob moved to edge A');
  assert.deepEqual(await a.page.evaluate(() => window.ogwDemo.states), ['connecting', 'connected'], "alice's edge stayed up");
  assert.deepEqual(await edgeB.exited, { code: 0, signal: null }, 'edge B drained and exited');
  // Recovered after reconnect: the 2 direct messages from the mailbox replay + 1 lobby post from the channel history.
  assert.equal(await b.page.textContent('#recovered'), '3');
  assert.equal(await b.page.locator('#log li.replayed').count(), 3);
  assert.equal(await a.page.textContent('#recovered'), '0');

  // Who is in the lobby: both pages list both users, once each, bob's move between edges notwithstanding.
  for (const page of [a.page, b.page]) {
    for (const name of [alice, bob]) {
      await page.waitForSelector(`#members li[data-room="lobby"][data-client="${name}"]`, WAIT);
    }

    assert.deepEqual(await page.$$eval('#members li', items => items.map(li => li.dataset.client).sort()), [alice, bob]);
  }

  t.diagnostic(`bob's states: ${bobStates.join(' → ')}`);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);

  mkdirSync(resultsDir, { recursive: true });
  await a.page.screenshot({ path: join(resultsDir, 'demo-chat-alice.png') });
  await b.page.screenshot({ path: join(resultsDir, 'demo-chat-bob.png') });
  // The README's screenshot is refreshed only on request, so a test run leaves the working tree clean.
  if (process.env.OGW_UPDATE_SCREENSHOT === '1') {
    mkdirSync(join(repoRoot, 'docs', 'images'), { recursive: true });
    await b.page.screenshot({ path: join(repoRoot, 'docs', 'images', 'demo-chat.png') });
  }
});

// Two more tabs on edges of their own: bob's edge is drained, then alice's edge is SIGKILLed right after her third
// line of a burst. Her page's SDK sends whatever was not answered again, with the message ids as keys, to the edge
// left; every line must show once on both pages, in order. A line the gateway took twice would show in
// `ogwDemo.repeats` (the page shows an id once, so repeats are counted rather than shown). Whether a line is still
// unanswered at the kill depends on timing (with the SDK's re-send removed this test still passed once): the re-send
// of taken-but-unanswered sends is proven by the .NET SDK's edge-kill test and the JS unit tests.
test('demoChat_BobsEdgeDrainedAlicesEdgeKilledMidSend_BothPagesShowEveryMessageOnceInOrder', async t => {
  const edgeC = await startEdge({ name: 'browser-C', embedded: false, siloGatewayPort: edgeA.gatewayPort });
  const edgeD = await startEdge({ name: 'browser-D', embedded: false, siloGatewayPort: edgeA.gatewayPort });
  t.after(async () => {
    await edgeC.stop();
    await edgeD.stop();
  });
  const alice = 'alice2';
  const bob = 'bob2';
  const a = await openChat(`${edgeC.http}/?edges=${encodeURIComponent(`${edgeC.ws},${edgeA.ws}`)}`, alice);
  const b = await openChat(`${edgeD.http}/?edges=${encodeURIComponent(`${edgeD.ws},${edgeA.ws}`)}`, bob);

  const expected = [];
  async function line(from, fromId, to, text) {
    await say(from.page, to, text);
    expected.push({ kind: 'dm', from: fromId, text, state: 'ok' });
    await Promise.all([shows(a.page, text), shows(b.page, text)]);
  }

  await line(a, alice, bob, 'hi bob');
  await line(b, bob, alice, 'hi alice');

  await edgeD.drain();
  await b.page.waitForFunction(() => window.ogwDemo.states.filter(s => s === 'connected').length === 2, null, WAIT);
  await line(a, alice, bob, 'you moved?');

  // Alice types a burst; her edge dies right after the third line was written, its answer (maybe) never coming.
  const burst = ['one', 'two', 'three', 'four', 'five'].map(n => `burst ${n}`);
  for (const [i, text] of burst.entries()) {
    await say(a.page, bob, text);
    expected.push({ kind: 'dm', from: alice, text, state: 'ok' });
    if (i === 2) {
      edgeC.signal('SIGKILL');
    }
  }

  for (const text of burst) {
    await Promise.all([shows(a.page, text), shows(b.page, text)]);
  }

  await line(b, bob, alice, 'every one once');
  for (const [who, page] of [["alice's page", a.page], ["bob's page", b.page]]) {
    assert.deepEqual(await transcript(page), expected, `${who}: every message once, in order`);
    assert.deepEqual(await page.evaluate(() => window.ogwDemo.repeats), [], `${who}: nothing arrived twice`);
  }

  assert.deepEqual(await edgeC.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(await a.page.getAttribute('#edge', 'data-url'), edgeA.ws, 'alice moved to edge A');
  assert.equal(await b.page.getAttribute('#edge', 'data-url'), edgeA.ws, 'bob moved to edge A');
  t.diagnostic(`alice's states: ${(await a.page.evaluate(() => window.ogwDemo.states)).join(' → ')}`);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
});
