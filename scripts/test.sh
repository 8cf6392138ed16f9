#!/usr/bin/env bash
# The whole test suite: set-up, then every *.test.js compiled from test/ with
# Node's own runner (or only the paths given). Each integration test file
# starts its own nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then
  mapfile -t files < <(find dist/test -name '*.test.js' | sort)
else
  mapfile -t files < <(for p in "$@"; do find "dist/${p%/}" -name '*.test.js' 2>/dev/null || true; done | sort)
fi
[ "${#files[@]}" -gt 0 ] || { echo "test: no test files matched" >&2; exit 1; }
# The limit is a guard against a hang and holds for each file as a whole (its tests run in one
# process): the quick-start test runs npm start twice and a build, the deploy tests start a dozen
# processes, which on a busy shared machine takes minutes, not seconds.
exec node --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
