export { connect, GatewayClient } from './client.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export { MAX_KEY_LENGTH, type Accepted, type RequestOptions } from './idempotency.js';
export { tokenExpiryMs } from './jwt.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { type ChannelMember, type PresenceEvent, type PresencePage } from './presence.js';
export {
  SUBPROTOCOL,
  type BackoffOptions,
  type ClientEvents,
  type ClientStats,
  type ConnectedEvent,
  type ConnectionState,
  type ConnectOptions,
  type DirectMessage,
  type DisconnectedEvent,
  type Publication,
  type ReconnectingEvent,
  type SubscribeResult,
  type TokenEvent,
  type UnrecoveredEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.js';
