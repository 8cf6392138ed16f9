import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../../nats/index.js";
import { startColmenaUp } from "../helpers/colmena-process.js";

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("colmena up - Ctrl-C right after ingest loses nothing acknowledged; a restart on the same data finds every document", async () => {
  const keep = { dataDir: await mkdtemp(join(tmpdir(), "colmena-restart-")), natsPort: await freePort() };
  try {
    const first = await startColmenaUp([], keep);
    const documents = Array.from({ length: 120 }, (_, i) => ({ id: `doc-${i}`, text: `Document ${i} describes widget${i} and its gadget${i}.` }));
    const res = await post(first.httpUrl, "/v1/documents", { documents });
    assert.equal(res.status, 202, "stored durably before the answer");
    assert.equal(await first.stop(), 0, "stopped at once, cleanly, whatever indexing was still under way");

    const faq = join(keep.dataDir, "faq.txt");
    await writeFile(faq, "What does document 7 describe?\n");
    const config = join(keep.dataDir, "colmena.json");
    await writeFile(config, JSON.stringify({ pipeline: { faqFile: faq } }));
    const second = await startColmenaUp(["--config", config], keep);
    try {
      const missing = new Set(documents.map((d) => d.id));
      for (let round = 0; round < 200 && missing.size > 0; round++) {
        for (const id of [...missing]) if ((await fetch(`${second.httpUrl}/v1/documents/${id}`)).status === 200) missing.delete(id);
        if (missing.size) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual([...missing], [], "every acknowledged document is indexed after the restart");
      const hit = (await (await post(second.httpUrl, "/v1/query", { question: "widget42 gadget42" })).json()) as { sources: Array<{ doc_id: string }> };
      assert.equal(hit.sources[0]!.doc_id, "doc-42");
      let cached = false;
      for (let i = 0; i < 100 && !cached; i++) {
        cached = ((await (await post(second.httpUrl, "/v1/query", { question: "What does document 7 describe?" })).json()) as { cached: boolean }).cached;
        if (!cached) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(cached, "the FAQ question was answered at start, so its first asker hits the cache");
    } finally {
      assert.equal(await second.stop(), 0);
    }
  } finally {
    await rm(keep.dataDir, { recursive: true, force: true });
  }
});
