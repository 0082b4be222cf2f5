// Demo chat on @orleansgateway/client (./sdk/ is compiled from clients/js/src by the EdgeHost build).
// Served by the EdgeHost in Development only. Query parameters: ?name=alice logs in at once; ?edges=ws://a/ws,ws://b/ws
// lists the edges to use (default: the edge that served this page).
import { connect } from './sdk/index.js';

const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.search);
const edges = (params.get('edges') ?? '').split(',').map(s => s.trim()).filter(Boolean);
const urls = edges.length > 0 ? edges : [new URL('/ws', location.href).href.replace(/^http/, 'ws')];

const seen = new Map(); // message id -> <li>: what is shown, once
const rooms = new Set();
let me;
let client;
let cachedToken;
let counter = 0;

/** Exposed for the browser test: the SDK client, every state it went through, and messages that arrived twice. */
window.ogwDemo = { states: [], repeats: [], get client() { return client; } };

async function getToken() {
  // A development token lives 1 h: reuse it, so a page whose edge is gone can still reconnect elsewhere.
  if (cachedToken && cachedToken.expiresAt - Date.now() > 60_000) {
    return cachedToken.token;
  }

  const response = await fetch(`/dev/token?sub=${encodeURIComponent(me)}`);
  if (!response.ok) {
    throw new Error(`/dev/token: HTTP ${response.status}`);
  }

  const body = await response.json();
  cachedToken = { token: body.token, expiresAt: Date.parse(body.expires_at) };
  return cachedToken.token;
}

function showState(state) {
  window.ogwDemo.states.push(state);
  $('state').dataset.state = state;
  $('state').textContent = state;
}

function entry({ id, kind, from, to, room, text, replayed = false }) {
  const existing = seen.get(id);
  if (existing) {
    // Our own message coming back from the room (once); anything else arriving again is a message taken twice.
    if (from !== me || existing.dataset.echoed) {
      window.ogwDemo.repeats.push(id);
    }

    existing.dataset.echoed = 'true';
    existing.classList.remove('pending');
    return existing;
  }

  const li = document.createElement('li');
  li.dataset.id = id;
  li.dataset.kind = kind;
  li.dataset.from = from;
  if (from === me) {
    li.classList.add('mine');
  }

  if (replayed) {
    li.classList.add('replayed');
  }

  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = kind === 'room' ? `#${room} ${from}` : `${from} → ${to}`;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  li.append(meta, body);
  $('log').append(li);
  $('log').scrollTop = $('log').scrollHeight;
  seen.set(id, li);
  return li;
}

function system(text) {
  const li = document.createElement('li');
  li.className = 'system';
  li.textContent = text;
  $('log').append(li);
}

function updateRecovered() {
  $('recovered').textContent = String(client.stats.replayed);
}

/**
 * Sends with the message id as the idempotency key: the SDK sends it again with that key whenever it cannot know
 * whether the gateway took it (a lost connection, err unavailable), and the gateway takes it once.
 */
async function deliver(li, request) {
  li.classList.add('pending');
  try {
    await request();
    li.classList.remove('pending');
  } catch (error) {
    li.classList.replace('pending', 'failed');
    li.title = `${error.code}: ${error.message}`;
  }
}

async function join(room) {
  if (rooms.has(room)) {
    return;
  }

  rooms.add(room);
  const item = document.createElement('li');
  item.dataset.room = room;
  item.textContent = `#${room}`;
  item.onclick = () => {
    $('to').value = `#${room}`;
    $('text').focus();
  };
  $('rooms').append(item);
  try {
    await client.subscribe(`room:${room}`, p => {
      const data = p.data ?? {};
      entry({ id: data.id ?? `${p.ch}#${p.off}`, kind: 'room', from: p.from, room, text: String(data.text ?? JSON.stringify(p.data)), replayed: p.replayed });
      updateRecovered();
    }, { presence: true });
    item.dataset.joined = 'true';
    void showMembers(room);
  } catch (error) {
    rooms.delete(room);
    item.remove();
    system(`Could not join #${room}: ${error.message}`);
  }
}

/** Who is in a room: the member list, then joins and leaves as they come (docs/protocol.md, channel presence). */
function member(room, client, present) {
  const existing = document.querySelector(`#members li[data-room="${CSS.escape(room)}"][data-client="${CSS.escape(client)}"]`);
  if (!present) {
    existing?.remove();
  } else if (!existing) {
    const li = document.createElement('li');
    li.dataset.room = room;
    li.dataset.client = client;
    li.textContent = `${client} `;
    const where = document.createElement('small');
    where.textContent = `#${room}`;
    li.append(where);
    $('members').append(li);
  }
}

async function showMembers(room) {
  try {
    const shown = new Set();
    let after;
    do {
      // A demo room is small; a few pages at most.
      const page = await client.presence(`room:${room}`, after === undefined ? {} : { after });
      page.members.forEach(m => shown.add(m.client));
      after = page.next;
    } while (after !== undefined && shown.size < 1_000);
    document.querySelectorAll(`#members li[data-room="${CSS.escape(room)}"]`).forEach(li => shown.has(li.dataset.client) || li.remove());
    shown.forEach(client => member(room, client, true));
  } catch (error) {
    console.warn('presence:', error);
  }
}

function say(to, text) {
  const id = `${me}.${Date.now().toString(36)}.${++counter}`;
  if (to.startsWith('#')) {
    const room = to.slice(1);
    const li = entry({ id, kind: 'room', from: me, room, text });
    void join(room).then(() => deliver(li, () => client.publish(`room:${room}`, { id, text }, { key: id })));
  } else {
    const li = entry({ id, kind: 'dm', from: me, to, text });
    void deliver(li, () => client.send(to, { id, text }, { key: id }));
  }
}

function login(name) {
  me = name;
  document.title = `${name} · OrleansGateway chat`;
  $('login').hidden = true;
  $('chat').hidden = false;
  client = connect({ url: urls, getToken });
  client.on('state', showState);
  client.onPresence(e => member(e.ch.slice('room:'.length), e.client, e.type === 'join'));
  client.on('connected', e => {
    $('edge').textContent = new URL(e.url).host;
    $('edge').dataset.url = e.url;
    // Joins and leaves while away were not delivered: read the lists again.
    rooms.forEach(room => void showMembers(room));
  });
  client.on('unrecovered', e => system(e.scope === 'mailbox'
    ? 'Some direct messages were lost to retention while you were away.'
    : `Some messages in ${e.ch} were lost to retention while you were away.`));
  client.on('error', e => console.warn('gateway client:', e));
  client.onMessage(m => {
    const data = m.data ?? {};
    entry({ id: data.id ?? `dm#${m.seq}`, kind: 'dm', from: m.from, to: me, text: String(data.text ?? JSON.stringify(m.data)), replayed: m.replayed });
    updateRecovered();
  });
  showState(client.state);
}

$('login').addEventListener('submit', e => {
  e.preventDefault();
  login($('name').value.trim());
});

$('join').addEventListener('submit', e => {
  e.preventDefault();
  void join($('room').value.trim());
  $('room').value = '';
});

$('compose').addEventListener('submit', e => {
  e.preventDefault();
  say($('to').value.trim(), $('text').value);
  $('text').value = '';
  $('text').focus();
});

if (params.get('name')) {
  login(params.get('name'));
}
