#!/usr/bin/env bash
# The whole test suite: set-up, then every test file under test/ with Node's
# own runner. Each integration test file starts its own nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --test --test-concurrency=2 --test-timeout=120000 "${@:-dist/test/}"
