// The demo page is served by the EdgeHost in Development only, with the SDK the EdgeHost build compiled from src/
// (EdgeHost.csproj, BuildDemoSdk): it must be byte for byte the package's own build of the same sources (dist/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEdge } from '../helpers/gateway.mjs';

const dist = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'dist');

test('demoPage_Development_ServesPageAndCurrentSdkBuild', async () => {
  const edge = await startEdge({ name: 'dev-page' });
  try {
    const page = await fetch(`${edge.http}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>OrleansGateway demo chat<\/title>/);
    const app = await fetch(`${edge.http}/app.js`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get('content-type'), /javascript/);
    const sdk = await fetch(`${edge.http}/sdk/client.js`);
    assert.equal(sdk.status, 200);
    assert.equal(await sdk.text(), readFileSync(join(dist, 'client.js'), 'utf8'), 'the served SDK is the current build');
  } finally {
    await edge.stop();
  }
});

test('demoPage_Production_NotServed', async () => {
  const edge = await startEdge({ name: 'prod-page', env: { ASPNETCORE_ENVIRONMENT: 'Production', Gateway__EmbeddedSilo: 'true' } });
  try {
    for (const path of ['/', '/index.html', '/app.js', '/sdk/client.js', '/dev/token?sub=alice']) {
      assert.equal((await fetch(`${edge.http}${path}`)).status, 404, path);
    }

    assert.equal((await fetch(`${edge.http}/health/ready`)).status, 200, 'the edge itself is up');
  } finally {
    await edge.stop();
  }
});
