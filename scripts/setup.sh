#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: nats-server on PATH, npm
# dependencies installed, TypeScript compiled to dist/. Safe to run again:
# each step is skipped when its result is already there and up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

need_nats() { [ -n "${NATS_SERVER_BIN:-}" ] && [ -x "$NATS_SERVER_BIN" ] && return 1; ! command -v nats-server >/dev/null 2>&1; }
if need_nats; then
  echo "setup: installing nats-server (apt-get install -y nats-server)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: nats-server is missing and this user cannot install packages; run: sudo apt-get install -y nats-server" >&2; exit 1
  fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)" >&2
  # package.json's allowScripts does not approve onnxruntime-node's install
  # script (it would download CUDA libraries; Colmena runs the CPU build in the
  # package); should an npm run it anyway, this variable makes it skip.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >&2
fi

# The build goes to a folder of its own, .dist-*, and `dist` is a symlink
# swapped to it in one rename, so a command that runs while another builds (a
# live `npm start` during `npm test`) never sees a half-built or missing
# dist/. Node resolves a module's imports from its real path, so a process
# started on an earlier build keeps loading from it; the last few builds stay.
# The folders sit beside dist (the same depth), as code finds package.json
# and test fixtures relative to itself.
# Skipped when no source changed since the build `dist` points at.
sources() { find nats runtime supervisors actors bridge cli loadtest bench test -type f -name '*.ts' 2>/dev/null | sort; }
stamp="$( (sources; echo tsconfig.json package-lock.json) | md5sum | cut -d' ' -f1)"
if [ -L dist ] && [ "$(cat dist/.sources 2>/dev/null)" = "$stamp" ] && [ -z "$(find $(sources) tsconfig.json package-lock.json -newer dist/.sources 2>/dev/null | head -1)" ]; then
  exit 0
fi
echo "setup: compiling TypeScript" >&2
build="$(mktemp -d .dist-XXXXXXXX)"
if ! npx --no-install tsc -p tsconfig.json --outDir "$build"; then rm -rf "$build"; exit 1; fi
chmod 755 "$build" "$build/cli/main.js"
echo "$stamp" >"$build/.sources"
# A dist/ folder from before builds were swapped moves aside once.
if [ -d dist ] && [ ! -L dist ]; then mv dist "$(mktemp -u .dist-XXXXXXXX)"; fi
ln -s "$build" "dist.$$" && mv -T "dist.$$" dist
ls -1dt .dist-* | tail -n +4 | xargs -r rm -rf
