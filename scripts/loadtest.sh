#!/usr/bin/env bash
# The load generator after set-up: `npm run loadtest -- <scenario> [options]`
# runs dist/loadtest/main.js, the same command as `colmena loadtest`
# (scenarios: steady, mixed, overload, scaling, soak; --help lists the options).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/loadtest/main.js "$@"
