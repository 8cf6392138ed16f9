#!/usr/bin/env bash
# Runs one evaluation after set-up: `npm run eval -- <name>` runs
# dist/eval/<name>.js, which prints one JSON object per line.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
if [ "$name" != "retrieval" ]; then
  echo "usage: npm run eval -- retrieval [--corpus DIR] [--compare REPO] [--top-k N] [--misses] [--set key=value]..." >&2
  exit 2
fi
bash scripts/setup.sh
shift
exec node "dist/eval/$name.js" "$@"
