#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: nats-server on PATH, npm
# dependencies installed, TypeScript compiled to dist/ (scripts/build.sh). Safe to run again:
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
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

bash scripts/build.sh
