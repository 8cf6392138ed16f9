import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startColmenaUp } from "../helpers/colmena-process.js";

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const get = async <T>(base: string, path: string) => (await (await fetch(`${base}${path}`)).json()) as T;

/** Waits (polling, generously) until `done` holds. */
async function until(what: string, done: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("colmena up - after an ingest the FAQ is answered again for the new index, so its first asker hits the cache with the new document", { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-faq-"));
  const faq = join(dir, "faq.txt");
  await writeFile(faq, "What does the gadget sort?\n");
  const config = join(dir, "colmena.json");
  await writeFile(config, JSON.stringify({ pipeline: { faqFile: faq } }));
  const up = await startColmenaUp(["--config", config]);
  try {
    // Cache writes are only the FAQ's while nobody asks: one at start (the index is empty then), one more once it has been answered again.
    const sets = async () => (await get<{ cache?: { sets?: number } }>(up.httpUrl, "/v1/status")).cache?.sets ?? 0;
    await until("the FAQ is answered at start", async () => (await sets()) >= 1);
    const atStart = await sets();

    assert.equal((await post(up.httpUrl, "/v1/documents", { documents: [{ id: "gadget", text: "The gadget sorts marbles by colour." }] })).status, 202);
    await until("the document is searchable", async () => (await get<{ searchable: boolean }>(up.httpUrl, "/v1/ingest")).searchable);
    await until("the FAQ is answered again", async () => (await sets()) > atStart);

    const answer = (await (await post(up.httpUrl, "/v1/query", { question: "What does the gadget sort?" })).json()) as { cached: boolean; answer: string };
    assert.equal(answer.cached, true, "answered before anyone asked");
    assert.match(answer.answer, /marbles/, "with the index as it is after the ingest");
  } finally {
    assert.equal(await up.stop(), 0);
    await rm(dir, { recursive: true, force: true });
  }
});
