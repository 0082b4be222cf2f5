import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { GatewayError } from './errors.js';
import { accepted, checkKey, isRetriable, KeyMaker, type Accepted, type RequestOptions } from './idempotency.js';
import { tokenExpiryMs } from './jwt.js';
import { toPresencePage, type PresenceEvent, type PresencePage } from './presence.js';
import {
  SUBPROTOCOL,
  type ClientEvents,
  type ClientStats,
  type ConnectionState,
  type ConnectOptions,
  type DirectMessage,
  type Publication,
  type SubscribeResult,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.js';

const OPEN = 1;
/** Close code the client uses when it gives up on a connection itself (4000-4999: private use). */
const CLIENT_ABANDON = 4000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

type Handler<T> = (event: T) => void;
type Frame = Record<string, unknown> & { t: string };

/** One WebSocket and what belongs to it; events of an abandoned connection are ignored. */
interface Connection {
  readonly ws: WebSocketLike;
  readonly url: string;
  readonly resumed: boolean;
  welcomed: boolean;
  bye: { code: string; reconnectMs: number | undefined } | undefined;
  /** Mailbox seqs up to this came from the resume replay. */
  replayUntil: number;
  lastRx: number;
  pingSentAt: number | undefined;
  timers: Set<ReturnType<typeof setTimeout>>;
}

interface Request {
  readonly id: string;
  readonly frame: Frame;
  readonly kind: 'user' | 'sub' | 'unsub' | 'auth';
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: GatewayError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  conn: Connection | undefined;
  /** Keyed `send`/`pub`/`up`: safe to send again, so kept across connections until taken or past its deadline. */
  readonly key?: string;
  /** Creation order: re-sent requests go out in it, before newer ones. */
  readonly order: number;
  retryTimer?: ReturnType<typeof setTimeout> | undefined;
  /** `err unavailable` answers so far (the retry backoff grows with them). */
  retries: number;
}

interface Channel {
  readonly ch: string;
  readonly handlers: Set<Handler<Publication>>;
  /** Subscribed with `presence`: the server sends this channel's joins and leaves. */
  readonly presence: boolean;
  lastOff: number | undefined;
  /** Offsets up to this came from the history replay of the latest subscribe. */
  replayUntil: number;
  /** `subscribe()` calls waiting for the first `ok`. */
  waiters: Array<{ resolve: (r: SubscribeResult) => void; reject: (e: GatewayError) => void; timer: ReturnType<typeof setTimeout> }>;
}

/**
 * A resilient client of the gateway: one logical connection over any number of WebSockets. It reconnects with
 * backoff, resumes the mailbox with `last_seq`, re-subscribes channels with `since`, de-duplicates by `seq`/`off`,
 * refreshes its token in band, and detects dead connections with `ping`. Create it with {@link connect}.
 */
export class GatewayClient {
  private readonly options: ConnectOptions;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly backoff: Required<BackoffOptions>;
  private readonly urls: readonly string[] | (() => string);
  private readonly listeners = new Map<keyof ClientEvents, Set<Handler<never>>>();
  private readonly queue: Request[] = [];
  private readonly inflight = new Map<string, Request>();
  private readonly channels = new Map<string, Channel>();
  private readonly clientTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly keys = new KeyMaker();
  /** Keyed requests waiting out a backoff after `err unavailable`. */
  private readonly retrying = new Set<Request>();

  private currentState: ConnectionState = 'connecting';
  private conn: Connection | undefined;
  /** Bumped for every attempt, so an attempt still awaiting its token knows when it is stale. */
  private attemptGeneration = 0;
  private failedAttempts = 0;
  private urlIndex = -1;
  private nextId = 0;
  private lastSeq: number | undefined;
  private token: string | undefined;
  private closed = false;
  private warnedUnrecovered = false;
  private readonly counters: ClientStats = { connects: 0, replayed: 0, duplicates: 0, tokenRefreshes: 0 };

  constructor(options: ConnectOptions) {
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) {
      throw new TypeError('No WebSocket implementation: pass options.WebSocket (e.g. the ws package on Node 20).');
    }

    if (typeof options.getToken !== 'function') {
      throw new TypeError('options.getToken is required');
    }

    if (Array.isArray(options.url) ? options.url.length === 0 : !options.url) {
      throw new TypeError('options.url is required');
    }

    this.options = options;
    this.WebSocketImpl = impl;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.urls = typeof options.url === 'string' ? [options.url] : (options.url as readonly string[] | (() => string));
    this.lastSeq = options.lastSeq;
    queueMicrotask(() => void this.attempt());
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The highest mailbox `seq` delivered; persist it to resume across page loads with `options.lastSeq`. */
  get seq(): number | undefined {
    return this.lastSeq;
  }

  /** Counters: connections, replayed and duplicate deliveries, token refreshes. */
  get stats(): Readonly<ClientStats> {
    return { ...this.counters };
  }

  /** Listens to an event; returns a function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, handler: Handler<ClientEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }

    set.add(handler as Handler<never>);
    return () => set.delete(handler as Handler<never>);
  }

  /** Direct messages, each once and in `seq` order. Returns a function that stops listening. */
  onMessage(handler: Handler<DirectMessage>): () => void {
    return this.on('message', handler);
  }

  /** Resolves when the client is (or next becomes) connected; rejects on `disconnected` or after `timeoutMs`. */
  whenConnected(timeoutMs = this.options.connectTimeoutMs ?? 10_000): Promise<void> {
    if (this.currentState === 'connected') {
      return Promise.resolve();
    }

    return new Promise((resolve, reject) => {
      const done = (error?: GatewayError) => {
        offConnected();
        offDisconnected();
        clearTimeout(timer);
        error ? reject(error) : resolve();
      };
      const offConnected = this.on('connected', () => done());
      const offDisconnected = this.on('disconnected', e => done(new GatewayError('closed', `disconnected: ${e.reason}`)));
      const timer = setTimeout(() => done(new GatewayError('timeout', `not connected within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  /**
   * Sends `data` to client `to` (all its sessions). Resolves once its mailbox has it (`ok`), exactly once: the request
   * carries a key and is sent again after a lost connection or `err unavailable` until taken or past its deadline.
   */
  send(to: string, data: unknown, options?: RequestOptions): Promise<Accepted> {
    return this.keyedRequest({ t: 'send', to, data }, options);
  }

  /** Publishes `data` on channel `ch`. Resolves once the channel has it (`ok`), exactly once (see {@link send}). */
  publish(ch: string, data: unknown, options?: RequestOptions): Promise<Accepted> {
    return this.keyedRequest({ t: 'pub', ch, data }, options);
  }

  /** Sends `data` to backend services on `topic`. Resolves once the broker has it (`ok`), exactly once (see {@link send}). */
  up(topic: string, data: unknown, options?: RequestOptions): Promise<Accepted> {
    return this.keyedRequest({ t: 'up', topic, data }, options);
  }

  /**
   * Subscribes to channel `ch`; `handler` gets each publication once, in `off` order, including the history newer
   * than `options.since` (if given) and whatever was published while the client was reconnecting. The subscription
   * is renewed on every reconnect. Resolves with the first `ok`.
   */
  subscribe(ch: string, handler: Handler<Publication>, options: { since?: number; presence?: boolean } = {}): Promise<SubscribeResult> {
    if (this.closed) {
      return Promise.reject(new GatewayError('closed', 'the client is closed'));
    }

    const existing = this.channels.get(ch);
    if (existing) {
      existing.handlers.add(handler);
      return Promise.resolve({ off: existing.lastOff ?? 0, recovered: true });
    }

    const channel: Channel = { ch, handlers: new Set([handler]), presence: options.presence === true, lastOff: options.since, replayUntil: -1, waiters: [] };
    this.channels.set(ch, channel);
    const result = new Promise<SubscribeResult>((resolve, reject) => {
      const timeoutMs = this.requestTimeoutMs;
      const timer = this.clientTimer(() => {
        channel.waiters = channel.waiters.filter(w => w.timer !== timer);
        if (this.channels.get(ch) === channel && channel.waiters.length === 0) {
          void this.unsubscribe(ch).catch(() => undefined);
        }

        reject(new GatewayError('timeout', `subscribe ${ch}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      channel.waiters.push({ resolve, reject, timer });
    });
    if (this.canSend()) {
      this.sendSub(channel, this.conn!);
    }

    return result;
  }

  /**
   * Who is in channel `ch` (the token must allow it; subscribing is not needed): one page of members ordered by client
   * id, with the total. Pass the page's `next` as `options.after` for the next one. Joins and leaves as they happen:
   * `subscribe(ch, handler, { presence: true })` and `on('presence', ...)`.
   */
  presence(ch: string, options: { after?: string } = {}): Promise<PresencePage> {
    if (this.closed) {
      return Promise.reject(new GatewayError('closed', 'the client is closed'));
    }

    const body: Frame = options.after === undefined ? { t: 'presence', ch } : { t: 'presence', ch, after: options.after };
    return new Promise<PresencePage>((resolve, reject) => {
      const request = this.makeRequest(body, 'user', ok => resolve(toPresencePage(ok)), reject);
      if (this.canSend()) {
        this.transmit(request, this.conn!);
      } else {
        this.queue.push(request);
      }
    });
  }

  /** Joins and leaves of the channels subscribed with `presence: true`. Returns a function that stops listening. */
  onPresence(handler: Handler<PresenceEvent>): () => void {
    return this.on('presence', handler);
  }

  /** Stops the subscription to `ch` (here and on future reconnects). */
  async unsubscribe(ch: string): Promise<void> {
    const channel = this.channels.get(ch);
    if (!channel) {
      return;
    }

    this.channels.delete(ch);
    for (const waiter of channel.waiters) {
      this.clearClientTimer(waiter.timer);
      waiter.reject(new GatewayError('closed', `unsubscribed from ${ch}`));
    }

    if (this.canSend()) {
      await new Promise<Frame>((resolve, reject) => this.transmit(this.makeRequest({ t: 'unsub', ch }, 'unsub', resolve, reject), this.conn!))
        .catch((error: GatewayError) => {
          // Lost with the connection: the next one does not re-subscribe, which is what was asked.
          if (error.code !== 'connection_lost') {
            throw error;
          }
        });
    }
  }

  /** Closes the client for good: pending requests fail with `closed`. */
  close(): void {
    this.finish('closed by the application');
  }

  // ---- connection lifecycle ----

  private async attempt(): Promise<void> {
    if (this.closed) {
      return;
    }

    const generation = ++this.attemptGeneration;
    const url = this.nextUrl();
    this.emit('connecting', { url });
    let token: string;
    try {
      token = await this.options.getToken();
      if (typeof token !== 'string' || token.length === 0) {
        throw new TypeError('getToken returned no token');
      }
    } catch (error) {
      if (generation === this.attemptGeneration && !this.closed) {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
        this.retry(`getToken failed: ${String(error)}`, undefined);
      }

      return;
    }

    if (generation !== this.attemptGeneration || this.closed) {
      return;
    }

    const target = this.socketUrl(url, token);
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(target, SUBPROTOCOL);
    } catch (error) {
      this.retry(`cannot open ${url}: ${String(error)}`, undefined);
      return;
    }

    const conn: Connection = {
      ws,
      url,
      resumed: this.lastSeq !== undefined,
      welcomed: false,
      bye: undefined,
      replayUntil: -1,
      lastRx: Date.now(),
      pingSentAt: undefined,
      timers: new Set(),
    };
    this.conn = conn;
    this.token = token;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.connTimer(conn, () => this.lost(conn, 'connect timeout'), connectTimeoutMs);
    ws.onmessage = (event: { data: unknown }) => this.receive(conn, event.data);
    ws.onclose = (event: { code: number; reason?: string }) => this.lost(conn, `close ${event.code}${event.reason ? ` ${event.reason}` : ''}`);
    ws.onerror = () => {
      // Always followed by close; the close carries the reason.
    };
  }

  private nextUrl(): string {
    if (typeof this.urls === 'function') {
      return this.urls();
    }

    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    return this.urls[this.urlIndex]!;
  }

  private socketUrl(url: string, token: string): string {
    const u = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
    if (u.protocol === 'http:') {
      u.protocol = 'ws:';
    } else if (u.protocol === 'https:') {
      u.protocol = 'wss:';
    }

    u.searchParams.set('access_token', token);
    if (this.lastSeq !== undefined) {
      u.searchParams.set('last_seq', String(this.lastSeq));
    } else {
      u.searchParams.delete('last_seq');
    }

    return u.toString();
  }

  /** The connection ended (closed, timed out, dead): fail what was in flight on it, then reconnect or stop. */
  private lost(conn: Connection, reason: string): void {
    if (conn !== this.conn) {
      return;
    }

    this.conn = undefined;
    this.abandon(conn);
    for (const request of [...this.inflight.values()]) {
      if (request.conn !== conn) {
        continue;
      }

      this.inflight.delete(request.id);
      if (request.key !== undefined) {
        this.requeue(request); // same key on the next connection: taken once whatever happened to this one
        continue;
      }

      this.clearClientTimer(request.timer);
      request.reject(new GatewayError('connection_lost',
        `the connection ended (${reason}) before the gateway answered: it may or may not have taken the request`));
    }

    if (this.closed) {
      return;
    }

    const bye = conn.bye;
    if (bye && (bye.code === 'policy' || bye.code === 'replaced')) {
      // The server's catalogue says: do not reconnect.
      this.finish(`bye ${bye.code}`);
      return;
    }

    const why = bye ? `bye ${bye.code}` : reason;
    if (bye?.reconnectMs !== undefined) {
      this.retry(why, bye.reconnectMs);
    } else if (bye?.code === 'token_expired') {
      this.retry(why, 0);
    } else {
      this.retry(why, undefined);
    }
  }

  /** Schedules the next attempt: after `delayMs` if given (the server said so), else after a backoff delay. */
  private retry(reason: string, delayMs: number | undefined): void {
    if (this.closed) {
      return;
    }

    const attempt = this.failedAttempts;
    const delay = delayMs ?? backoffDelay(this.failedAttempts++, this.backoff);
    if (this.currentState !== 'connecting') {
      this.setState('reconnecting');
    }

    this.emit('reconnecting', { reason, delayMs: delay, attempt });
    this.clientTimer(() => void this.attempt(), delay);
  }

  private abandon(conn: Connection): void {
    for (const timer of conn.timers) {
      clearTimeout(timer);
    }

    conn.timers.clear();
    const ws = conn.ws;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = () => undefined;
    ws.onopen = null;
    try {
      // A dead peer never answers the close handshake: do not wait for it (ws has terminate(), browsers time out alone).
      const terminate = (ws as { terminate?: () => void }).terminate;
      if (typeof terminate === 'function') {
        terminate.call(ws);
      } else {
        ws.close(CLIENT_ABANDON, 'abandoned');
      }
    } catch {
      // Already closed or never opened: nothing to release.
    }
  }

  private finish(reason: string): void {
    if (this.closed) {
      return;
    }

    this.closed = true;
    this.attemptGeneration++;
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      for (const timer of conn.timers) {
        clearTimeout(timer);
      }

      conn.ws.onmessage = null;
      conn.ws.onclose = null;
      try {
        conn.ws.close(1000, 'client closing');
      } catch {
        // Never opened: nothing to close.
      }
    }

    for (const timer of this.clientTimers) {
      clearTimeout(timer);
    }

    this.clientTimers.clear();
    const error = () => new GatewayError('closed', `the client is closed (${reason})`);
    for (const request of [...this.queue, ...this.inflight.values(), ...this.retrying]) {
      request.reject(error());
    }

    this.retrying.clear();
    this.queue.length = 0;
    this.inflight.clear();
    for (const channel of this.channels.values()) {
      for (const waiter of channel.waiters) {
        waiter.reject(error());
      }

      channel.waiters = [];
    }

    this.setState('disconnected');
    this.emit('disconnected', { reason });
  }

  // ---- frames in ----

  private receive(conn: Connection, raw: unknown): void {
    if (conn !== this.conn) {
      return;
    }

    conn.lastRx = Date.now();
    let frame: Frame;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw)) as Frame;
    } catch {
      this.emit('error', new Error('the server sent a frame that is not JSON'));
      return;
    }

    switch (frame.t) {
      case 'welcome':
        this.welcome(conn, frame);
        break;
      case 'msg':
        this.message(conn, frame);
        break;
      case 'pub':
        this.publication(frame);
        break;
      case 'ok':
      case 'err':
        this.answer(frame);
        break;
      case 'join':
      case 'leave':
        this.presenceChanged(frame);
        break;
      case 'bye':
        conn.bye = { code: String(frame.code), reconnectMs: typeof frame.reconnect_ms === 'number' ? frame.reconnect_ms : undefined };
        // The server closes right after; if its close never comes, stop waiting.
        this.connTimer(conn, () => this.lost(conn, 'no close after bye'), 5_000);
        break;
      default:
        // pong and anything newer: liveness only (lastRx above).
        break;
    }
  }

  private welcome(conn: Connection, frame: Frame): void {
    const seq = Number(frame.seq);
    const recovered = frame.recovered !== false;
    const previous = this.lastSeq;
    conn.welcomed = true;
    for (const timer of conn.timers) {
      clearTimeout(timer); // the connect timeout
    }

    conn.timers.clear();
    this.failedAttempts = 0;
    this.counters.connects++;
    if (this.lastSeq === undefined || this.lastSeq > seq) {
      // Fresh start, or the mailbox is behind us (it lost its state): count from the server's seq.
      this.lastSeq = seq;
    }

    conn.replayUntil = conn.resumed ? seq : -1;
    const hb = Number(frame.hb) || 25;
    this.setState('connected');
    this.emit('connected', { client: String(frame.client), seq, recovered, hb, url: conn.url, resumed: conn.resumed });
    if (this.counters.connects > 1) {
      this.emit('token', { via: 'reconnect', expiresAt: this.token ? tokenExpiryMs(this.token) : undefined });
    }

    if (!recovered) {
      this.unrecovered({ scope: 'mailbox', lastSeq: previous, seq });
    }

    this.scheduleHeartbeat(conn, this.options.heartbeatIntervalMs ?? hb * 1000);
    this.scheduleRefresh(conn);
    for (const channel of this.channels.values()) {
      this.sendSub(channel, conn);
    }

    while (this.queue.length > 0 && this.conn === conn) {
      this.transmit(this.queue.shift()!, conn);
    }
  }

  private message(conn: Connection, frame: Frame): void {
    const seq = Number(frame.seq);
    if (this.lastSeq !== undefined && seq <= this.lastSeq) {
      this.counters.duplicates++;
      return;
    }

    this.lastSeq = seq;
    const replayed = seq <= conn.replayUntil;
    if (replayed) {
      this.counters.replayed++;
    }

    this.emit('message', { seq, from: String(frame.from), data: frame.data, replayed });
  }

  private presenceChanged(frame: Frame): void {
    const channel = this.channels.get(String(frame.ch));
    if (channel?.presence) {
      this.emit('presence', { type: frame.t === 'join' ? 'join' : 'leave', ch: channel.ch, client: String(frame.client) });
    }
  }

  private publication(frame: Frame): void {
    const channel = this.channels.get(String(frame.ch));
    if (!channel) {
      return; // unsubscribed meanwhile
    }

    const off = Number(frame.off);
    if (channel.lastOff !== undefined && off <= channel.lastOff) {
      this.counters.duplicates++;
      return;
    }

    channel.lastOff = off;
    const replayed = off <= channel.replayUntil;
    if (replayed) {
      this.counters.replayed++;
    }

    const publication: Publication = { ch: channel.ch, off, from: String(frame.from), data: frame.data, replayed };
    for (const handler of [...channel.handlers]) {
      this.safely(() => handler(publication));
    }

    this.emit('publication', publication);
  }

  private answer(frame: Frame): void {
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    const request = id === undefined ? undefined : this.inflight.get(id);
    if (!request) {
      if (frame.t === 'err') {
        this.emit('error', new GatewayError(String(frame.code), `err without a pending request: ${String(frame.msg)}`));
      }

      return;
    }

    this.inflight.delete(request.id);
    if (frame.t === 'err' && request.key !== undefined && isRetriable(String(frame.code))) {
      this.retryLater(request);
      return;
    }

    this.clearClientTimer(request.timer);
    if (frame.t === 'ok') {
      request.resolve(frame);
    } else {
      request.reject(new GatewayError(String(frame.code), String(frame.msg ?? frame.code)));
    }
  }

  private unrecovered(event: ClientEvents['unrecovered']): void {
    if ((this.listeners.get('unrecovered')?.size ?? 0) === 0 && !this.warnedUnrecovered) {
      this.warnedUnrecovered = true;
      console.warn('@orleansgateway/client: messages were lost to retention and no "unrecovered" handler is registered: resync from your backend', event);
    }

    this.emit('unrecovered', event);
  }

  // ---- frames out ----

  private canSend(): boolean {
    const conn = this.conn;
    return conn !== undefined && conn.welcomed && conn.bye === undefined && conn.ws.readyState === OPEN;
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? 10_000;
  }

  private userRequest(body: Frame, deadlineMs: number): Promise<Frame> {
    if (this.closed) {
      return Promise.reject(new GatewayError('closed', 'the client is closed'));
    }

    if (!this.canSend() && this.queue.length >= (this.options.maxQueue ?? 1_000)) {
      return Promise.reject(new GatewayError('queue_full',
        `not connected and the send queue is full (${this.queue.length} requests, maxQueue): retry after reconnecting`));
    }

    return new Promise<Frame>((resolve, reject) => {
      const request = this.makeRequest(body, 'user', resolve, reject, deadlineMs);
      if (this.canSend() && this.queue.length === 0) {
        this.transmit(request, this.conn!);
      } else {
        this.queue.push(request);
      }
    });
  }

  // ---- exactly once: keyed requests, kept until taken ----

  private keyedRequest(body: Frame, options: RequestOptions | undefined): Promise<Accepted> {
    const invalid = checkKey(options?.key);
    if (invalid) {
      return Promise.reject(invalid);
    }

    const deadlineMs = options?.deadlineMs ?? this.requestTimeoutMs;
    if (!(deadlineMs > 0)) {
      return Promise.reject(new GatewayError('bad_request', 'deadlineMs must be positive'));
    }

    const key = options?.key ?? this.keys.next();
    return this.userRequest({ ...body, key }, deadlineMs).then(ok => accepted(key, ok));
  }

  /** Puts a keyed request back in the queue at its place by creation order: re-sent before anything newer. */
  private requeue(request: Request): void {
    request.conn = undefined;
    let at = this.queue.length;
    while (at > 0 && this.queue[at - 1]!.order > request.order) {
      at--;
    }

    this.queue.splice(at, 0, request);
  }

  /** `err unavailable`: the same frame again after a backoff (growing per request), on whatever connection is up then. */
  private retryLater(request: Request): void {
    const delay = backoffDelay(request.retries++, this.backoff);
    this.retrying.add(request);
    request.retryTimer = this.clientTimer(() => {
      if (!this.retrying.delete(request)) {
        return;
      }

      if (this.canSend() && this.queue.length === 0) {
        this.transmit(request, this.conn!);
      } else {
        this.requeue(request);
      }
    }, delay);
  }

  private makeRequest(body: Frame, kind: Request['kind'], resolve: (f: Frame) => void, reject: (e: GatewayError) => void,
    timeoutMs = this.requestTimeoutMs): Request {
    const order = ++this.nextId;
    const id = `c${order}`;
    const key = typeof body.key === 'string' ? body.key : undefined;
    const request: Request = { id, frame: { ...body, id }, kind, resolve, reject, timer: undefined, conn: undefined, key, order, retries: 0 };
    request.timer = this.clientTimer(() => {
      this.inflight.delete(id);
      const queued = this.queue.indexOf(request);
      if (queued >= 0) {
        this.queue.splice(queued, 1);
      }

      if (this.retrying.delete(request)) {
        this.clearClientTimer(request.retryTimer);
      }

      reject(new GatewayError('timeout', key === undefined
        ? `${body.t}: no answer within ${timeoutMs} ms${queued >= 0 ? ' (never sent: not connected)' : ''}`
        : `${body.t} (key ${key}): not taken within its ${timeoutMs} ms deadline${request.retries > 0 ? ` (${request.retries} unavailable answers)` : ''}`));
    }, timeoutMs);
    return request;
  }

  private transmit(request: Request, conn: Connection): void {
    request.conn = conn;
    this.inflight.set(request.id, request);
    try {
      conn.ws.send(JSON.stringify(request.frame));
    } catch (error) {
      this.lost(conn, `send failed: ${String(error)}`);
    }
  }

  private sendSub(channel: Channel, conn: Connection): void {
    const since = channel.lastOff;
    const frame: Frame = since === undefined ? { t: 'sub', ch: channel.ch } : { t: 'sub', ch: channel.ch, since };
    if (channel.presence) {
      frame.presence = true;
    }

    const request = this.makeRequest(frame, 'sub', ok => this.subscribed(channel, since, ok), error => this.subscribeFailed(channel, error));
    this.transmit(request, conn);
  }

  private subscribed(channel: Channel, since: number | undefined, ok: Frame): void {
    if (this.channels.get(channel.ch) !== channel) {
      return;
    }

    const off = Number(ok.off);
    const recovered = ok.recovered !== false;
    if (channel.lastOff === undefined || channel.lastOff > off) {
      // Fresh subscription, or the channel is behind us (it lost its state): count from its offset.
      channel.lastOff = off;
    }

    channel.replayUntil = since === undefined ? -1 : off;
    if (!recovered) {
      this.unrecovered({ scope: 'channel', ch: channel.ch, since, off });
    }

    for (const waiter of channel.waiters) {
      this.clearClientTimer(waiter.timer);
      waiter.resolve({ off, recovered });
    }

    channel.waiters = [];
  }

  private subscribeFailed(channel: Channel, error: GatewayError): void {
    if (error.code === 'connection_lost' || this.channels.get(channel.ch) !== channel) {
      return; // re-sent on the next connection
    }

    if (channel.waiters.length > 0) {
      this.channels.delete(channel.ch);
      for (const waiter of channel.waiters) {
        this.clearClientTimer(waiter.timer);
        waiter.reject(error);
      }

      channel.waiters = [];
    } else {
      // A re-subscribe after reconnecting was refused (e.g. the refreshed token no longer allows it).
      this.emit('error', new GatewayError(error.code, `re-subscribe to ${channel.ch} failed: ${error.message}`));
      if (error.code === 'unavailable' || error.code === 'timeout') {
        // Transient: try again on this connection after a pause (a new connection re-subscribes anyway).
        const conn = this.conn;
        if (conn) {
          this.connTimer(conn, () => {
            if (this.channels.get(channel.ch) === channel && this.canSend()) {
              this.sendSub(channel, conn);
            }
          }, 1_000);
        }
      } else {
        this.channels.delete(channel.ch);
      }
    }
  }

  // ---- heartbeat and token refresh ----

  private scheduleHeartbeat(conn: Connection, intervalMs: number): void {
    const timeoutMs = this.options.heartbeatTimeoutMs ?? 10_000;
    const check = () => {
      const now = Date.now();
      if (conn.pingSentAt !== undefined) {
        if (conn.lastRx >= conn.pingSentAt) {
          conn.pingSentAt = undefined;
        } else if (now - conn.pingSentAt >= timeoutMs) {
          this.lost(conn, 'heartbeat timeout');
          return;
        } else {
          this.connTimer(conn, check, conn.pingSentAt + timeoutMs - now);
          return;
        }
      }

      const idle = now - conn.lastRx;
      if (idle < intervalMs) {
        this.connTimer(conn, check, intervalMs - idle);
        return;
      }

      conn.pingSentAt = now;
      try {
        conn.ws.send(JSON.stringify({ t: 'ping', id: `hb${++this.nextId}` }));
      } catch (error) {
        this.lost(conn, `ping failed: ${String(error)}`);
        return;
      }

      this.connTimer(conn, check, timeoutMs);
    };
    this.connTimer(conn, check, intervalMs);
  }

  private scheduleRefresh(conn: Connection): void {
    if (this.options.inBandRefresh === false || !this.token) {
      return;
    }

    const expiresAt = tokenExpiryMs(this.token);
    if (expiresAt === undefined) {
      return;
    }

    const life = expiresAt - Date.now();
    const margin = this.options.refreshMarginMs ?? 30_000;
    const delay = Math.max(0, life - margin, life / 2);
    this.connTimer(conn, () => void this.refresh(conn), delay);
  }

  private async refresh(conn: Connection): Promise<void> {
    let token: string;
    try {
      token = await this.options.getToken();
    } catch (error) {
      if (conn === this.conn) {
        this.emit('error', new Error(`token refresh: getToken failed: ${String(error)}`));
        this.connTimer(conn, () => void this.refresh(conn), 5_000);
      }

      return;
    }

    if (conn !== this.conn || !this.canSend()) {
      return; // a new connection fetches its own token
    }

    try {
      await new Promise<Frame>((resolve, reject) => this.transmit(this.makeRequest({ t: 'auth', token }, 'auth', resolve, reject), conn));
    } catch (error) {
      const code = (error as GatewayError).code;
      if (conn !== this.conn) {
        return;
      }

      if (code === 'bad_request') {
        // A server without the auth extension: reconnect with the fresh token instead.
        this.lost(conn, 'token refresh by reconnecting');
      } else {
        this.emit('error', new GatewayError(code, `token refresh refused: ${(error as Error).message}`));
        this.connTimer(conn, () => void this.refresh(conn), 5_000);
      }

      return;
    }

    if (conn !== this.conn) {
      return;
    }

    this.token = token;
    this.counters.tokenRefreshes++;
    this.emit('token', { via: 'auth', expiresAt: tokenExpiryMs(token) });
    this.scheduleRefresh(conn);
  }

  // ---- plumbing ----

  private setState(state: ConnectionState): void {
    if (this.currentState === state) {
      return;
    }

    this.currentState = state;
    this.emit('state', state);
  }

  private emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) {
      return;
    }

    for (const handler of [...set]) {
      this.safely(() => (handler as Handler<ClientEvents[K]>)(payload));
    }
  }

  /** An application handler that throws must not break delivery: report it asynchronously, like an event loop would. */
  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      setTimeout(() => {
        throw error;
      }, 0);
    }
  }

  private connTimer(conn: Connection, callback: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      conn.timers.delete(timer);
      callback();
    }, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    conn.timers.add(timer);
  }

  private clientTimer(callback: () => void, delayMs: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.clientTimers.delete(timer);
      callback();
    }, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    this.clientTimers.add(timer);
    return timer;
  }

  private clearClientTimer(timer: ReturnType<typeof setTimeout> | undefined): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      this.clientTimers.delete(timer);
    }
  }
}

/** Creates a client and starts connecting. */
export function connect(options: ConnectOptions): GatewayClient {
  return new GatewayClient(options);
}
