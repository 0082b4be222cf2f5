#!/usr/bin/env bash
# Everything the JS SDK needs, then every JS test: `npm ci`, the SDK build, installing the package into scratch apps as a user would, the EdgeHost build when its sources changed, and `node --test` over test/ (unit tests, tests
# against real EdgeHost processes, and the demo page in headless Chromium). Needs node >= 20, npm, the .NET SDK, and
# Debian's chromium (installed here when missing and running as root). A missing dependency fails the run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

for tool in node npm dotnet; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is required" >&2; exit 1; }
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "test.sh: node >= 20 is required (found $(node --version))" >&2; exit 1; }

chromium="${OGW_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing chromium (Debian package) for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test.sh: $chromium not found; install Debian's chromium (apt-get install -y chromium) or set OGW_CHROMIUM" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm run build
npm run typecheck

# The package as a clean checkout has it (no dist/, no node_modules/), installed by an app from its folder (npm links
# it and runs `prepare`, which installs the devDependencies and compiles) and from `npm pack`'s tarball: both must
# import. The nested installs come from npm's cache, filled by the `npm ci` above.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/pkg" "$scratch/packed" "$scratch/from-folder" "$scratch/from-tarball"
tar -C "$here" --exclude=./node_modules --exclude=./dist --exclude=./test-results -cf - . | tar -C "$scratch/pkg" -xf -
for app in from-folder from-tarball; do
  echo '{ "name": "scratch-app", "version": "1.0.0", "private": true, "type": "module" }' > "$scratch/$app/package.json"
  cp test/package/import.mjs "$scratch/$app/"
done
(cd "$scratch/from-folder" && npm install --prefer-offline --no-audit --no-fund --loglevel=error "$scratch/pkg" && node import.mjs)
(cd "$scratch/pkg" && npm pack --prefer-offline --loglevel=error --pack-destination "$scratch/packed" >/dev/null)
(cd "$scratch/from-tarball" && npm install --offline --no-audit --no-fund --loglevel=error "$scratch"/packed/*.tgz && node import.mjs)

dll="$root/EdgeHost/bin/Debug/net10.0/OrleansGateway.EdgeHost.dll"
newer=""
if [ -f "$dll" ]; then
  newer="$(find "$root/EdgeHost" "$root/Hosting" "$root/Grains" "$root/Grains.Interfaces" "$root/Streams.Kafka" \
    \( -path '*/bin' -o -path '*/obj' -o -path '*/wwwroot' \) -prune -o \
    -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -newer "$dll" -print -quit)"
  # The demo page's SDK is compiled from src/ by the EdgeHost build.
  [ -z "$newer" ] && newer="$(find "$here/src" "$here/tsconfig.json" -newer "$dll" -print -quit)"
  for props in "$root"/Directory.Build.props "$root"/Directory.Packages.props "$root"/global.json; do
    [ -f "$props" ] && [ "$props" -nt "$dll" ] && newer="$props"
  done
fi
if [ ! -f "$dll" ] || [ -n "$newer" ]; then
  echo "test.sh: building the EdgeHost${newer:+ ($newer changed)}"
  dotnet build "$root/EdgeHost" -c Debug -nologo -v quiet
fi

export OGW_CHROMIUM="$chromium"
# Test files by name: a bare test/ would also "run" the helpers (every .mjs under a test/ folder counts on Node 20).
node --test --test-concurrency=1 --test-force-exit test/unit/*.test.mjs test/gateway/*.test.mjs test/browser/*.test.mjs
