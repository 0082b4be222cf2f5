// Run (by test.sh) from a scratch app that installed @orleansgateway/client: the package must resolve as ESM from the
// app, export the SDK, and ship its typings next to the code.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backoffDelay, connect, GatewayError, SUBPROTOCOL } from '@orleansgateway/client';

assert.equal(typeof connect, 'function');
assert.equal(SUBPROTOCOL, 'ogw.v1.json');
assert.ok(new GatewayError('timeout', 'x') instanceof Error);
assert.equal(typeof backoffDelay, 'function');
const entry = fileURLToPath(import.meta.resolve('@orleansgateway/client'));
assert.ok(existsSync(entry.replace(/\.js$/, '.d.ts')), `no typings next to ${entry}`);
console.log(`@orleansgateway/client imports from ${entry}`);
