// `prepare`: compiles src/ to dist/ (what the package ships) with the TypeScript compiler from devDependencies.
// npm runs it on `npm install`/`npm ci` in this folder, before `npm pack`/`npm publish`, and when an app installs
// this folder (`npm install /path/to/clients/js`): npm 11 then links the folder and runs `prepare` in it WITHOUT
// installing its devDependencies, so on a clean checkout they are installed here first (`npm ci`, from the lockfile).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

if (!existsSync(tsc)) {
  // npm passes its own settings down as npm_config_* variables; an app's `--omit=dev`, `--global` or
  // `--install-links` must not shape this install, so dev is included explicitly and the rest is reset.
  const npm = process.env.npm_execpath;
  const args = ['ci', '--include=dev', '--global=false', '--install-links=false', '--ignore-scripts', '--no-audit', '--no-fund'];
  console.error('prepare: installing the devDependencies to compile the SDK (npm ci)');
  if (npm && npm.endsWith('.js')) {
    execFileSync(process.execPath, [npm, ...args], { cwd: root, stdio: 'inherit' });
  } else {
    execFileSync('npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  }
}

execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
