#!/usr/bin/env bash
# `npm start`: set-up, then `colmena up` (the embedded single-node default).
# Extra arguments go to `colmena up`, e.g. `npm start -- --port 9090`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/cli/main.js up "$@"
