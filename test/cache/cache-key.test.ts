import assert from "node:assert/strict";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AnswerCache, cacheKey, DiskStore, keyKind, normaliseQuestion, readFaq } from "../../actors/cache/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { ManualClock } from "../../supervisors/index.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "colmena-cache-"));
  dirs.push(d);
  return d;
}

const base = { kind: "answer", question: "What does the queen bee do?", indexVersion: 7, models: { embedder: "hash-384", llm: "extractive" } } as const;

test("cache key - the same question in another spelling gives the same key", () => {
  const key = cacheKey(base);
  assert.match(key, /^answer\.[0-9a-f]{64}$/);
  assert.equal(keyKind(key), "answer");
  assert.equal(cacheKey({ ...base, question: "  what does the QUEEN bee   do ?? " }), key);
  assert.equal(cacheKey({ ...base, question: "«What does the queen bee do»" }), key);
  assert.equal(cacheKey({ ...base, models: { llm: "extractive", embedder: "hash-384" } }), key, "model order does not matter");
  assert.equal(normaliseQuestion(" Qué   hace la REINA?! "), "qué hace la reina");
});

test("cache key - the key changes with the index version, a model id and the parameters", () => {
  const key = cacheKey(base);
  const others = [
    cacheKey({ ...base, indexVersion: 8 }),
    cacheKey({ ...base, indexVersion: "7b" }),
    cacheKey({ ...base, models: { ...base.models, llm: "falcon3-1b" } }),
    cacheKey({ ...base, models: { ...base.models, embedder: "bge-small" } }),
    cacheKey({ ...base, params: { topK: 5 } }),
    cacheKey({ ...base, question: "What does the drone do?" }),
  ];
  assert.equal(new Set([key, ...others]).size, others.length + 1);
  assert.equal(cacheKey({ ...base, params: { a: 1, b: true } }), cacheKey({ ...base, params: { b: true, a: 1 } }));
  assert.throws(() => cacheKey({ ...base, indexVersion: "" }), (e) => isColmenaError(e, "INVALID"));
  assert.throws(() => cacheKey({ ...base, indexVersion: undefined as unknown as number }), (e) => isColmenaError(e, "INVALID"));
  assert.throws(() => cacheKey({ ...base, kind: "embedding" as "answer" }), (e) => isColmenaError(e, "INVALID"), "answers are the only kind");
  assert.throws(() => keyKind("answer.nothex"), (e) => isColmenaError(e, "INVALID"));
});

test("cache disk - entries survive a reopen, expire, and the oldest go beyond maxEntries", async () => {
  const dir = await tempDir();
  const clock = new ManualClock(1_000);
  const store = await DiskStore.open({ dir, maxEntries: 3, clock });
  const bytes = (s: string) => new TextEncoder().encode(s);
  for (const k of ["a", "b", "c"]) {
    await store.set(k, bytes(`value ${k}`), 10_000);
    clock.advance(1);
  }
  assert.equal(new TextDecoder().decode((await store.get("b"))!.value), "value b");
  await store.set("d", bytes("value d"), 10_000);
  assert.equal(store.size, 3);
  assert.equal(await store.get("a"), undefined, "the oldest write is evicted");
  await store.set("b", bytes("value b2"), 2_000);
  clock.advance(1);
  await store.set("e", bytes("value e"), 10_000);
  assert.equal(await store.get("c"), undefined, "rewriting b made c the oldest");

  // A temporary file left by a crash is removed on open; entries come back in write order.
  const shard = (await readdir(dir))[0]!;
  await writeFile(join(dir, shard, ".tmp-deadbeef"), "half a write");
  clock.advance(1_000); // b expires (2 000)
  const reopened = await DiskStore.open({ dir, maxEntries: 3, clock });
  assert.equal(reopened.size, 2);
  assert.equal(await reopened.get("b"), undefined);
  assert.deepEqual(await reopened.get("d"), { value: bytes("value d"), expiresAt: 10_000 });
  assert.ok(!(await readdir(join(dir, shard))).some((f) => f.startsWith(".tmp-")));
  clock.advance(10_000);
  assert.equal(await reopened.get("d"), undefined);
  assert.equal(reopened.size, 1);
});

test("cache faq - questions from JSON or text, listed once", async () => {
  const dir = await tempDir();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "faq.txt"), "# frequent questions\nWhat does the queen do?\n\n  what does the queen do  \nHow do bees make honey?\r\n");
  await writeFile(join(dir, "faq.json"), JSON.stringify({ questions: ["Why do bees swarm?", { question: "Why do bees swarm" }, "What is propolis?"] }));
  await writeFile(join(dir, "list.json"), JSON.stringify(["One?", "Two?"]));
  await writeFile(join(dir, "bad.json"), JSON.stringify({ questions: [1] }));
  assert.deepEqual(await readFaq(join(dir, "faq.txt")), ["What does the queen do?", "How do bees make honey?"]);
  assert.deepEqual(await readFaq(join(dir, "faq.json")), ["Why do bees swarm?", "What is propolis?"]);
  assert.deepEqual(await readFaq(join(dir, "list.json")), ["One?", "Two?"]);
  await assert.rejects(readFaq(join(dir, "bad.json")), (e) => isColmenaError(e, "INVALID") && /entry 0/.test(e.message));
  await assert.rejects(readFaq(join(dir, "missing.txt")), (e) => isColmenaError(e, "INVALID") && e.message.includes("missing.txt"));
  await assert.rejects(AnswerCache.open({ faqFile: join(dir, "faq.txt") } as never), (e) => isColmenaError(e, "INVALID") && e.message.includes("faqFile"), "the FAQ file is pipeline.faqFile");
});
