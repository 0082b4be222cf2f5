export { connect, GatewayClient } from './client.js';
export { GatewayError } from './errors.js';
export { tokenExpiryMs } from './jwt.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { SUBPROTOCOL, } from './types.js';
