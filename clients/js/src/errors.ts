/**
 * Error codes a request promise can be rejected with.
 *
 * Server codes (from an `err` frame, PROTOCOL.md): `bad_request`, `forbidden`, `too_large`, `rate_limited`,
 * `not_found`, `unavailable` (not taken: retry).
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
  | 'too_large'
  | 'rate_limited'
  | 'not_found'
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
