import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { documentRoot } from "../../cli/documents.js";
import { startColmenaUp } from "../helpers/colmena-process.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

test("colmena ingest - a file's id is its path from its git checkout's root, whatever folder is named, so ingesting a folder and then one inside it never duplicates", async () => {
  const checkout = await mkdtemp(join(tmpdir(), "colmena-ids-"));
  const up = await startColmenaUp();
  try {
    await mkdir(join(checkout, ".git"));
    await mkdir(join(checkout, "docs/concepts"), { recursive: true });
    await writeFile(join(checkout, "docs/intro.md"), "# Intro\n\nThe intro page mentions zebrafinch.\n");
    await writeFile(join(checkout, "docs/concepts/subjects.md"), "# Subjects\n\nSubject mapping rewrites a quokkasubject into another.\n");
    assert.equal(await documentRoot(join(checkout, "docs/concepts/subjects.md")), checkout);

    const ingest = (path: string, cwd: string) => promisify(execFile)(process.execPath, [main, "ingest", path, "--url", up.httpUrl], { cwd, timeout: 60_000 });
    await ingest(join(checkout, "docs"), tmpdir());
    await ingest("concepts", join(checkout, "docs"));
    await ingest("subjects.md", join(checkout, "docs/concepts"));

    const status = async (id: string) => (await fetch(`${up.httpUrl}/v1/documents/${id}`)).status;
    for (const id of ["docs-intro-md", "docs-concepts-subjects-md"]) {
      for (let i = 0; i < 200 && (await status(id)) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await status(id), 200, id);
    }
    for (const id of ["intro-md", "concepts-subjects-md", "subjects-md"]) assert.equal(await status(id), 404, `no copy under ${id}`);
    const res = (await (await fetch(`${up.httpUrl}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "What rewrites a quokkasubject?" }) })).json()) as { sources: Array<{ doc_id: string; path: string }> };
    assert.deepEqual(res.sources.filter((s) => s.path.endsWith("subjects.md")).map((s) => s.doc_id), ["docs-concepts-subjects-md"], "one source for the file");
  } finally {
    assert.equal(await up.stop(), 0);
    await rm(checkout, { recursive: true, force: true });
  }
});

test("colmena ingest - outside any git checkout, the id is the file's absolute path", async () => {
  // The temporary folder is assumed to be outside any checkout; the test says so if it is not.
  const dir = await mkdtemp(join(tmpdir(), "colmena-ids-"));
  try {
    assert.equal(await documentRoot(join(dir, "a.md")), "/");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
