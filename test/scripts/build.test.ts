import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, constants, cp, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
// The compiled test runs from dist/test/scripts; the checkout is three levels up.
const repo = resolve(fileURLToPath(import.meta.url), "../../../..");

/** A copy of the checkout's sources (node_modules linked) where builds can be run without touching the suite's own dist/. */
async function copyCheckout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "colmena-build-"));
  const tsconfig = JSON.parse(await readFile(join(repo, "tsconfig.json"), "utf8")) as { include: string[] };
  for (const entry of [...tsconfig.include, "scripts", "tsconfig.json", "package.json", "package-lock.json"]) {
    await cp(join(repo, entry), join(dir, entry), { recursive: true });
  }
  await symlink(join(repo, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const isExecutable = (file: string) => access(file, constants.X_OK).then(() => true, () => false);

test("build - dist/ is swapped whole to a new build with an executable bin, the build a running server loaded stays, unchanged sources are not rebuilt", async () => {
  const dir = await copyCheckout();
  try {
    await run("bash", ["scripts/build.sh"], { cwd: dir });
    const first = await realpath(join(dir, "dist"));
    assert.ok((await readlink(join(dir, "dist"))).startsWith(".dist."), "dist is a link to a build beside it");
    assert.ok(await isExecutable(join(dir, "dist/cli/main.js")), "the bin keeps its executable bit");
    const firstBuiltAt = (await stat(join(first, "cli/main.js"))).mtimeMs;

    await run("bash", ["scripts/build.sh"], { cwd: dir });
    assert.equal(await realpath(join(dir, "dist")), first, "same sources, same build");
    assert.equal((await stat(join(first, "cli/main.js"))).mtimeMs, firstBuiltAt, "not compiled again");

    await appendFile(join(dir, "cli/main.ts"), "\n// a change\n");
    await run("bash", ["scripts/build.sh"], { cwd: dir });
    const second = await realpath(join(dir, "dist"));
    assert.notEqual(second, first, "a change builds elsewhere");
    assert.ok(await isExecutable(join(dir, "dist/cli/main.js")));
    assert.ok(await isExecutable(join(first, "cli/main.js")), "the earlier build, which a live server may still import from, is intact");
    const { stdout } = await run(join(dir, "dist/cli/main.js"), ["--version"], { cwd: dir });
    assert.match(stdout, /\d+\.\d+\.\d+/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("build - npm reads the checkout's .npmrc without a warning", async () => {
  const { stderr } = await run("npm", ["config", "get", "fund"], { cwd: repo });
  assert.doesNotMatch(stderr, /warn/i);
});
