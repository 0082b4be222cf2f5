// Copies the compiled SDK into the EdgeHost's Development-only demo page (EdgeHost/wwwroot/sdk/), which is committed
// so that `dotnet run --project EdgeHost` serves the demo without npm.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const target = join(here, '..', '..', '..', 'EdgeHost', 'wwwroot', 'sdk');
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
const files = readdirSync(dist).filter(f => f.endsWith('.js'));
for (const file of files) {
  copyFileSync(join(dist, file), join(target, file));
}

console.log(`copied ${files.length} SDK module(s) to ${target}`);
