/**
 * Error codes a request promise can be rejected with.
 *
 * Server codes (from an `err` frame, docs/protocol.md): `bad_request`, `forbidden`, `rate_limited`, `unavailable`
 * (not taken: retry). The protocol reserves `too_large` and `not_found`; this gateway never sends them (a frame over
 * the size limit closes the connection with 1009; `unsub` of a channel not followed is answered `ok`).
 *
 * Client codes:
 * - `timeout`: no `ok`/`err` within the request timeout (queued time included). Outcome unknown.
 * - `queue_full`: the client is not connected and its send queue is full. Not sent.
 * - `connection_lost`: the frame was written, then the connection ended before its `ok`/`err`. Outcome unknown:
 *   the gateway may or may not have taken it (retry only if your `data` is idempotent for its receiver).
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
