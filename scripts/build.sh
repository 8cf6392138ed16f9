#!/usr/bin/env bash
# Compiles TypeScript so that `dist/` is never half-built: each build goes to
# its own folder `.dist.<hash of the sources>` beside `dist`, then the symlink
# `dist` is swapped to it in one rename. A running `colmena up` keeps the build
# it started from (Node resolves the symlink when it loads a module, so its
# later imports and worker threads read the same folder), and sources that did
# not change are not compiled again. The folders sit at the repository root so
# that paths computed from a compiled file (`../../..`) land where they would in
# `dist/`.
set -euo pipefail
cd "$(dirname "$0")/.."

dirs=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("tsconfig.json","utf8")).include.join(" "))')
# shellcheck disable=SC2086
hash=$( { sha1sum tsconfig.json package-lock.json; find $dirs -type f -print0 | sort -z | xargs -0 sha1sum; } | sha1sum | cut -c1-12)
target=".dist.$hash"

if [ ! -x "$target/cli/main.js" ]; then
  rm -rf "$target"
  tmp=$(mktemp -d ".dist.tmp.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  npx --no-install tsc -p tsconfig.json --outDir "$tmp"
  # tsc writes files without the executable bit; the bin needs it for `npx colmena`.
  chmod +x "$tmp/cli/main.js"
  # Another build of the same sources may have finished first: keep that one.
  mv -T "$tmp" "$target" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
fi

# Newest first below: the build in use is the newest even when it was made before.
touch "$target"
if [ "$(readlink dist 2>/dev/null || true)" != "$target" ]; then
  # A real folder from an older layout cannot be renamed over; it goes first.
  if [ -e dist ] && [ ! -L dist ]; then rm -rf dist; fi
  ln -sfn "$target" .dist.link.$$
  mv -T .dist.link.$$ dist
fi

# Older builds may still be running (a server started before this build), so
# the three newest stay; the rest go.
ls -1dt .dist.????????????  2>/dev/null | tail -n +4 | while read -r old; do
  [ "$old" = "$target" ] || rm -rf "$old"
done
