#!/usr/bin/env bash
# Runs one benchmark suite after set-up: `npm run bench -- <name>` runs
# dist/bench/<name>.js, which prints one JSON object per line.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
if [ -z "$name" ] || [ ! -f "bench/$name.ts" ]; then
  echo "usage: npm run bench -- <suite>   (suites: $(ls bench/*.ts | xargs -n1 basename | sed 's/\.ts$//' | grep -v -e '^stats$' -e '-server$' | tr '\n' ' '))" >&2
  exit 2
fi
bash scripts/setup.sh
shift
exec node "dist/bench/$name.js" "$@"
