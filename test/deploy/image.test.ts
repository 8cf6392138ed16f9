import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "node:test";
import { startColmenaUp } from "../helpers/colmena-process.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const run = promisify(execFile);

/** The runtime stage's COPY lines: what each copies (from the build context, or the build stage's /app) and where to. */
function runtimeCopies(dockerfile: string): Array<{ from: "context" | "build"; sources: string[]; dest: string }> {
  const stages = dockerfile.split(/^FROM /m);
  const runtime = stages.find((s) => /^\S+\s+AS\s+runtime\b/i.test(s));
  assert.ok(runtime, "the Dockerfile has a runtime stage");
  return [...runtime.matchAll(/^COPY\s+(--from=(\S+)\s+)?(.+)$/gm)].map((m) => {
    const parts = m[3]!.trim().split(/\s+/);
    return { from: m[2] === "build" ? "build" : "context", sources: parts.slice(0, -1), dest: parts.at(-1)! };
  });
}

test("image - the Dockerfile's runtime stage, rehearsed without Docker: what it copies, npm ci --omit=dev, then colmena up answers", { timeout: 600_000 }, async () => {
  const dockerfile = await readFile(join(root, "Dockerfile"), "utf8");
  const copies = runtimeCopies(dockerfile);
  assert.match(dockerfile, /^USER node$/m, "not root");
  assert.match(dockerfile, /^HEALTHCHECK [^]*?\/health/m);
  assert.match(dockerfile, /^ENTRYPOINT \["node", "dist\/cli\/main.js"\]$/m);
  const image = await mkdtemp(join(tmpdir(), "colmena-image-"));
  try {
    for (const c of copies) {
      for (const source of c.sources) {
        // The build stage's /app/dist is this checkout's compiled dist/, less what the image's build leaves out.
        const from = c.from === "build" ? join(root, source.replace(/^\/app\//, "")) : join(root, source);
        const to = c.dest.endsWith("/") ? join(image, c.dest, source.split("/").at(-1)!) : join(image, c.dest);
        await cp(from, to, { recursive: true, dereference: true, filter: (p) => !/[/\\]dist[/\\](test|bench|eval)([/\\]|$)/.test(p) });
      }
    }
    await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: image, timeout: 240_000 });
    const up = await startColmenaUp([], undefined, join(image, "dist", "cli", "main.js"));
    try {
      const health = await fetch(`${up.httpUrl}/health`);
      assert.equal(health.status, 200);
      const ingest = await fetch(`${up.httpUrl}/v1/documents`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ documents: [{ id: "image", text: "The image runs Colmena with production dependencies only." }] }),
      });
      assert.equal(ingest.status, 202);
    } finally {
      assert.equal(await up.stop(), 0);
    }
  } finally {
    await rm(image, { recursive: true, force: true });
  }
});
