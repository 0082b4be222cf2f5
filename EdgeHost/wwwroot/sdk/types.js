/** The WebSocket subprotocol of wire protocol version 1. */
export const SUBPROTOCOL = 'ogw.v1.json';
