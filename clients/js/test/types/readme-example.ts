// Type-checked (not run) by `npm run typecheck`: the README example and the WebSocket implementations it accepts.
import { connect, GatewayError } from '../../dist/index.js';

const client = connect({
  url: ['wss://edge-1.example.com/ws', 'wss://edge-2.example.com/ws'],
  getToken: async () => (await (await fetch('/my-backend/gateway-token')).json()).token,
  WebSocket, // the DOM's constructor fits too; on Node 20 pass the ws package's
});
client.on('state', state => console.log('connection:', state));
client.on('unrecovered', lost => console.warn('resync from the backend:', lost));
client.onMessage(m => console.log(`${m.from} (#${m.seq}):`, m.data));
await client.subscribe('room:lobby', p => console.log(`#${p.ch} ${p.from}:`, p.data));
try {
  await client.send('bob', { text: 'hi' });
} catch (e) {
  console.error((e as GatewayError).code);
}

const state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected' = client.state;
void state;
