import { GatewayError } from './errors.js';

/** The longest key the gateway accepts (docs/protocol.md, `key`). */
export const MAX_KEY_LENGTH = 64;

/** What the gateway answered a `send`/`publish`/`up` with: it took the request (now, or the first time it saw its key). */
export interface Accepted {
  /** The idempotency key the request carried (the app's, or one the client made). */
  key: string;
  /** True when the gateway had already taken a request with this key: this was a repeat, not delivered again. */
  dup: boolean;
  /** The recipient mailbox's `seq` of a `send`, when the gateway says it. */
  seq?: number;
  /** The channel's `off` of a `publish`, when the gateway says it. */
  off?: number;
}

/** Per-call options of `send`/`publish`/`up`. */
export interface RequestOptions {
  /**
   * What makes this one message, 1–64 chars, unique per sender: a request repeated with the same key (after a lost
   * answer, a reconnect, a page reload) is taken once. Default: a key the client makes (unique per client instance).
   */
  key?: string;
  /** Give up (reject with `timeout`) when the gateway has not taken it within this. Default: `requestTimeoutMs`. */
  deadlineMs?: number;
}

/**
 * Makes the keys of one client: a random prefix per client instance (so two tabs, or a reloaded page, never collide)
 * and a counter. 12 random base-36 chars + '.' + counter stays far below 64 chars.
 */
export class KeyMaker {
  private readonly prefix: string;
  private counter = 0;

  constructor(random: () => number = Math.random) {
    const bytes = new Uint8Array(12);
    const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
    if (crypto?.getRandomValues) {
      crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = Math.floor(random() * 256);
      }
    }

    this.prefix = [...bytes].map(b => (b % 36).toString(36)).join('');
  }

  next(): string {
    return `${this.prefix}.${(++this.counter).toString(36)}`;
  }
}

/** The app's key if valid, else the reason it is not; undefined key = make one. */
export function checkKey(key: unknown): GatewayError | undefined {
  if (key === undefined) {
    return undefined;
  }

  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    return new GatewayError('bad_request', `key must be a string of 1 to ${MAX_KEY_LENGTH} chars`);
  }

  return undefined;
}

/** Reads the `ok` of a keyed request. */
export function accepted(key: string, ok: Record<string, unknown>): Accepted {
  const result: Accepted = { key, dup: ok.dup === true };
  if (typeof ok.seq === 'number') {
    result.seq = ok.seq;
  }

  if (typeof ok.off === 'number') {
    result.off = ok.off;
  }

  return result;
}

/**
 * Server `err` codes after which the same keyed request is sent again after a backoff: `unavailable` (not taken, or
 * not known to be), `rate_limited` (not taken, slow down). Such a retry may be overtaken by later requests.
 */
export function isRetriable(code: string): boolean {
  return code === 'unavailable' || code === 'rate_limited';
}
