#!/usr/bin/env bash
# The Dockerfile's install, build and runtime layout, without Docker (for machines that have none):
# in a scratch directory, from this checkout's package files and lockfile,
#   1. build stage: `npm ci` of the server and model-contract workspaces only, `tsc -b packages/server`;
#   2. runtime deps: `npm ci --omit=dev -w @sagan-serve/server`, which must hold no @tensorflow/* and no
#      webgpu;
#   3. runtime: the image's files only (package.json files, dist/src, openapi.yaml, public/, models/),
#      the Dockerfile's CMD (on the cpu provider: the image asks for cuda,cpu), then GET /readyz and one
#      /generate.
# Needs the npm registry. Usage, from the repository root: bash scripts/check-server-install.sh [port]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-18123}
work=$(mktemp -d)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
package_files() { # $1 = destination; copies what the Dockerfile's COPY lines of package files copy
  mkdir -p "$1/packages/model-contract" "$1/packages/server"
  cp "$root"/{package.json,package-lock.json,.npmrc,tsconfig.base.json} "$1/"
  cp "$root"/packages/model-contract/{package.json,tsconfig.json} "$1/packages/model-contract/"
  cp "$root"/packages/server/{package.json,tsconfig.json} "$1/packages/server/"
}
npm_ci() { (cd "$1" && shift && npm ci --ignore-scripts --no-audit --no-fund "$@" 2>&1 | grep -v '^npm warn' | tail -1); }

echo "1. build stage"
package_files "$work/build"
npm_ci "$work/build" -w @sagan-serve/server -w @sagan-serve/model-contract --include-workspace-root
cp -r "$root/packages/model-contract/src" "$work/build/packages/model-contract/"
cp -r "$root/packages/server/src" "$work/build/packages/server/"
tsc_out=$(cd "$work/build" && npx tsc -b packages/server 2>&1) || { echo "$tsc_out" >&2; exit 1; }

echo "2. runtime dependencies"
package_files "$work/app"
npm_ci "$work/app" --omit=dev -w @sagan-serve/server
if ls -d "$work/app/node_modules/@tensorflow" "$work/app/node_modules/webgpu" 2>/dev/null; then
  echo "FAIL: the server's production install has TensorFlow.js or webgpu" >&2; exit 1
fi
echo "   node_modules: $(ls "$work/app/node_modules" | wc -l) entries, $(du -sm "$work/app/node_modules" | cut -f1) MiB, no @tensorflow, no webgpu"

echo "3. runtime layout and CMD"
for pkg in model-contract server; do
  mkdir -p "$work/app/packages/$pkg/dist"
  cp -r "$work/build/packages/$pkg/dist/src" "$work/app/packages/$pkg/dist/"
done
cp "$root/packages/server/openapi.yaml" "$work/app/packages/server/"
cp -r "$root/packages/server/public" "$work/app/packages/server/"
cp -r "$root/models" "$work/app/"
rm -f "$work/app/tsconfig.base.json" "$work/app/packages/"*/tsconfig.json
cmd=$(grep '^CMD ' "$root/Dockerfile" | sed 's/^CMD //')
mapfile -t argv < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$cmd")
(cd "$work/app" && NODE_ENV=production EXECUTION_PROVIDERS=cpu PORT=$port HOST=127.0.0.1 LOG_LEVEL=warn exec "${argv[@]}") &
server_pid=$!
for _ in $(seq 1 60); do curl -sf "localhost:$port/readyz" >/dev/null && break; sleep 1; done
curl -sf "localhost:$port/readyz" >/dev/null || { echo "FAIL: not ready after 60 s" >&2; exit 1; }
status=$(curl -s -o "$work/sample.png" -w '%{http_code} %{content_type} %{size_download} bytes' "localhost:$port/generate?class=saint_bernard&seed=3")
echo "   ${argv[*]}: GET /generate?class=saint_bernard&seed=3 -> $status"
[[ $status == "200 image/png "* ]] || { echo "FAIL" >&2; exit 1; }
echo "ok"
