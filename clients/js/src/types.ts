import type { BackoffOptions } from './backoff.js';
import type { PresenceEvent } from './presence.js';

/** The WebSocket subprotocol of wire protocol version 1. */
export const SUBPROTOCOL = 'ogw.v1.json';

/**
 * The subset of the WHATWG WebSocket the client uses: the browser's `WebSocket`, Node 22+'s global one, or the
 * `ws` package's `WebSocket` on Node 20.
 */
export interface WebSocketLike {
  readonly readyState: number;
  // Handler parameters are `any` so that the DOM's and the ws package's (richer) event types both fit; the client
  // reads only `data` from message events and `code`/`reason` from close events.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor, e.g. `globalThis.WebSocket` or `(await import('ws')).WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `connecting`: first connection; `connected`: welcomed; `reconnecting`: lost, coming back; `disconnected`: closed for good. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectOptions {
  /**
   * Where to connect: `ws(s)://host/ws` (`http(s)` is accepted too). With several URLs (edges) the client moves to
   * the next one on every reconnect; a function is asked on every attempt.
   */
  url: string | readonly string[] | (() => string);
  /** Called on every (re)connect and before the current token expires; returns a JWT. May be async. */
  getToken: () => string | Promise<string>;
  /** WebSocket implementation. Default: `globalThis.WebSocket` (browsers, Node 22+). On Node 20 pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Resume the mailbox after this `seq` (e.g. persisted by the app). Default: fresh start (only what arrives from now on). */
  lastSeq?: number;
  /**
   * `subscribe` fails with `timeout` when not answered within this, queued time included; the default deadline of
   * `send`/`publish`/`up` (per call: `deadlineMs`), within which they are sent again (same key) after a lost connection
   * or `err unavailable`. Default 10,000 ms.
   */
  requestTimeoutMs?: number;
  /** Requests held while not connected; beyond, they fail at once with `queue_full`. Default 1,000. */
  maxQueue?: number;
  /** An attempt that has not been welcomed within this is abandoned. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Send a `ping` after this long without any frame from the server. Default: the server's `welcome.hb` (25 s). */
  heartbeatIntervalMs?: number;
  /** The connection is declared dead when nothing arrives within this after a `ping`. Default 10,000 ms. */
  heartbeatTimeoutMs?: number;
  /** Refresh the token this long before its `exp` (or at half its remaining life if that is later). Default 30,000 ms. */
  refreshMarginMs?: number;
  /** Refresh with the in-band `auth` frame (true, default); false: let the server end the session and reconnect. */
  inBandRefresh?: boolean;
  /** Reconnect backoff. Defaults: 250 ms initial bound, ×2, capped at 30 s, full jitter. */
  backoff?: BackoffOptions;
}

/** A direct message (`msg`), delivered once, in `seq` order. */
export interface DirectMessage {
  seq: number;
  from: string;
  data: unknown;
  /** True when it came from the replay after a resume (it arrived while the client was away). */
  replayed: boolean;
}

/** A channel publication (`pub`), delivered once per channel, in `off` order. */
export interface Publication {
  ch: string;
  off: number;
  from: string;
  data: unknown;
  /** True when it came from the history replay (`since`) after a (re)subscribe. */
  replayed: boolean;
}

export interface SubscribeResult {
  /** The channel's current offset when the subscription was taken. */
  off: number;
  /** False: history newer than `since` was partly lost to retention (an `unrecovered` event was emitted too). */
  recovered: boolean;
}

/** Something was lost to retention: the app must resync this scope from its backend. */
export type UnrecoveredEvent =
  | { scope: 'mailbox'; lastSeq: number | undefined; seq: number }
  | { scope: 'channel'; ch: string; since: number | undefined; off: number };

export interface ConnectedEvent {
  client: string;
  seq: number;
  recovered: boolean;
  hb: number;
  url: string;
  /** True when this connection resumed with `last_seq`. */
  resumed: boolean;
}

export interface ReconnectingEvent {
  /** Why the previous connection ended, e.g. `bye draining`, `close 1006`, `heartbeat timeout`, `connect timeout`. */
  reason: string;
  delayMs: number;
  attempt: number;
}

export interface DisconnectedEvent {
  reason: string;
}

export interface TokenEvent {
  /** `auth`: refreshed in band; `reconnect`: a new connection was made with it. */
  via: 'auth' | 'reconnect';
  expiresAt: number | undefined;
}

export interface ClientStats {
  /** Connections welcomed. */
  connects: number;
  /** Messages and publications delivered from a replay after a resume or re-subscribe. */
  replayed: number;
  /** Frames dropped because their `seq`/`off` was already seen. */
  duplicates: number;
  /** Tokens refreshed in band (`auth` answered `ok`). */
  tokenRefreshes: number;
}

export interface ClientEvents {
  state: ConnectionState;
  connecting: { url: string };
  connected: ConnectedEvent;
  reconnecting: ReconnectingEvent;
  disconnected: DisconnectedEvent;
  message: DirectMessage;
  publication: Publication;
  /** Joins and leaves of channels subscribed with `presence: true`. */
  presence: PresenceEvent;
  unrecovered: UnrecoveredEvent;
  token: TokenEvent;
  /** Problems the client works around itself (a failed re-subscribe, a refused token refresh, an `err` without id). */
  error: Error;
}

export type { BackoffOptions };
