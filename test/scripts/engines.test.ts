import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import semver from "semver";

// The compiled test runs from dist/test/scripts; the checkout is three levels up.
const repo = resolve(fileURLToPath(import.meta.url), "../../../..");

interface Lockfile {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
}

/**
 * `npm ci` warns EBADENGINE for a package whose `engines.node` the running
 * Node does not satisfy; the project runs on Node 20, so every package the
 * lockfile installs must accept the oldest Node 20 and this one (a package
 * whose newest line needs Node 22 is pinned or overridden to an older line).
 */
test("engines - every package in the lockfile runs on Node 20 (a fresh npm ci prints no EBADENGINE)", async () => {
  const lock = JSON.parse(await readFile(resolve(repo, "package-lock.json"), "utf8")) as Lockfile;
  const { engines } = JSON.parse(await readFile(resolve(repo, "package.json"), "utf8")) as { engines: { node: string } };
  const oldest = semver.minVersion(engines.node)!.version;
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (!path || range === undefined) continue;
    for (const node of [oldest, process.versions.node]) {
      if (!semver.satisfies(node, range)) refused.push(`${path}@${entry.version} needs node ${range}, not ${node}`);
    }
  }
  assert.deepEqual(refused, []);
});
