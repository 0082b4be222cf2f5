/**
 * Error codes a request promise can be rejected with.
 *
 * Server codes (from an `err` frame, docs/protocol.md): `bad_request`, `forbidden`, `rate_limited`, `unavailable`
 * (not taken, or not sure: `send`/`publish`/`up` retry it themselves with backoff until their deadline). The protocol reserves `too_large` and `not_found`; this gateway never sends them (a frame over
 * the size limit closes the connection with 1009; `unsub` of a channel not followed is answered `ok`).
 *
 * Client codes:
 * - `timeout`: `send`/`publish`/`up` were not taken within their deadline (`deadlineMs`, default `requestTimeoutMs`,
 *   queued time and retries included). Taken at most once: a later repeat with the same `key` is still recognised
 *   within the gateway's window, so the app may retry it with that key.
 * - `queue_full`: the client is not connected and its send queue is full. Not sent.
 * - `connection_lost`: never for `send`/`publish`/`up` (they carry a key and are sent again after reconnecting).
 * - `closed`: the client was closed (by `close()`, or the server ended the session for good). Not sent.
 */
export type GatewayErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'queue_full'
  | 'connection_lost'
  | 'closed'
  | (string & {});

/** A request that failed; `code` says why (see {@link GatewayErrorCode}). */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }
}
