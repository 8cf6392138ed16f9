import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShardIndex, loadSnapshot, saveSnapshot } from "../../actors/index-shard/index.js";
import type { Chunk } from "../../actors/index-shard/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { axis } from "./random-vectors.js";

const DIM = 8;

function chunk(id: string, overrides: Partial<Chunk> = {}): Chunk {
  const n = Number(id.replace(/\D/g, "")) || 0;
  return { id, docId: `doc-${n % 3}`, text: `chunk ${id} talks about topic${n}`, vector: axis(DIM, n), metadata: { lang: n % 2 === 0 ? "en" : "es", n }, ...overrides };
}

function filled(count: number, opts: { initialCapacity?: number } = {}): ShardIndex {
  const index = new ShardIndex({ dimension: DIM, ...opts });
  for (let i = 0; i < count; i++) index.upsert(chunk(`c${i}`));
  return index;
}

const ids = (hits: Array<{ id: string }>) => hits.map((h) => h.id);

test("index-shard - upsert then search finds the chunk in both lists", () => {
  const index = filled(6);
  assert.equal(index.size, 6);
  const { vector, bm25 } = index.search({ vector: axis(DIM, 2, 0.1), text: "topic2", k: 3 });
  assert.equal(vector[0]?.id, "c2");
  assert.ok((vector[0]?.score ?? 0) > 0.99, "cosine similarity of a near-identical vector");
  assert.deepEqual(ids(bm25), ["c2"]);
  assert.deepEqual(bm25[0], { ...bm25[0], docId: "doc-2", text: "chunk c2 talks about topic2", metadata: { lang: "en", n: 2 } });
  assert.ok(vector.every((h, i) => i === 0 || h.score <= (vector[i - 1]?.score ?? Infinity)), "best first");
});

test("index-shard - a query without vector or text gives empty lists", () => {
  const index = filled(3);
  assert.deepEqual(index.search({ vector: axis(DIM, 1), k: 2 }).bm25, []);
  assert.deepEqual(index.search({ text: "topic1", k: 2 }).vector, []);
  assert.deepEqual(new ShardIndex({ dimension: DIM }).search({ vector: axis(DIM, 1), text: "x", k: 5 }), { vector: [], bm25: [] });
});

test("index-shard - upserting the same id twice keeps one entry with the new content", () => {
  const index = filled(4);
  index.upsert(chunk("c1", { text: "replaced words entirely", vector: axis(DIM, 6), ordinal: 7 }));
  index.upsert(chunk("c1", { text: "replaced words entirely", vector: axis(DIM, 6), ordinal: 7 }));
  assert.equal(index.size, 4);
  const { vector, bm25 } = index.search({ vector: axis(DIM, 6), text: "replaced", k: 10 });
  assert.equal(vector.filter((h) => h.id === "c1").length, 1);
  assert.equal(vector[0]?.id, "c1");
  assert.equal(vector[0]?.ordinal, 7);
  assert.deepEqual(ids(bm25), ["c1"]);
  assert.equal(bm25[0]?.text, "replaced words entirely");
  assert.deepEqual(index.search({ text: "topic1", k: 10 }).bm25, [], "the old text is no longer indexed");
});

test("index-shard - deleted chunks are never returned", () => {
  const index = filled(20);
  assert.equal(index.delete("c3"), true);
  assert.equal(index.delete("c3"), false);
  assert.equal(index.delete("nope"), false);
  assert.equal(index.size, 19);
  const { vector, bm25 } = index.search({ vector: axis(DIM, 3), text: "topic3 chunk", k: 100 });
  assert.equal(vector.length, 19);
  assert.ok(!ids(vector).includes("c3"));
  assert.ok(!ids(bm25).includes("c3"));
  assert.equal(bm25.length, 19);
});

test("index-shard - deleteDocument removes every chunk of the document", () => {
  const index = filled(9);
  assert.equal(index.deleteDocument("doc-1"), 3);
  assert.equal(index.deleteDocument("doc-1"), 0);
  assert.equal(index.size, 6);
  const { vector, bm25 } = index.search({ vector: axis(DIM, 1), text: "chunk", k: 20 });
  assert.ok(vector.every((h) => h.docId !== "doc-1"));
  assert.ok(bm25.every((h) => h.docId !== "doc-1"));
  assert.equal(vector.length, 6);
});

test("index-shard - an upsert may move a chunk to another document", () => {
  const index = filled(3);
  index.upsert(chunk("c0", { docId: "doc-9" }));
  assert.equal(index.deleteDocument("doc-0"), 0);
  assert.equal(index.deleteDocument("doc-9"), 1);
  assert.equal(index.size, 2);
});

test("index-shard - metadata filters apply to both lists", () => {
  const index = filled(12);
  const { vector, bm25 } = index.search({ vector: axis(DIM, 1), text: "chunk talks", k: 20, filter: { lang: "en" } });
  assert.equal(vector.length, 6);
  assert.equal(bm25.length, 6);
  assert.ok([...vector, ...bm25].every((h) => h.metadata.lang === "en"));
  const exact = index.search({ vector: axis(DIM, 1), text: "chunk", k: 20, filter: { lang: "es", n: 5 } });
  assert.deepEqual(ids(exact.vector), ["c5"]);
  assert.deepEqual(ids(exact.bm25), ["c5"]);
  assert.deepEqual(index.search({ vector: axis(DIM, 1), text: "chunk", k: 5, filter: { n: "5" } }), { vector: [], bm25: [] }, "strict equality");
});

test("index-shard - grows past its initial capacity and reuses freed slots first", () => {
  const index = filled(50, { initialCapacity: 4 });
  assert.equal(index.size, 50);
  assert.equal(index.capacity, 64);
  for (let i = 0; i < 10; i++) index.delete(`c${i}`);
  for (let i = 100; i < 110; i++) index.upsert(chunk(`c${i}`));
  assert.equal(index.capacity, 64, "ten deletes made room for ten inserts");
  const { vector } = index.search({ vector: axis(DIM, 0), k: 50 });
  assert.equal(vector.length, 50);
  assert.ok(ids(vector).every((id) => Number(id.slice(1)) >= 10));
});

test("index-shard - returned hits do not alias the index state", () => {
  const index = filled(2);
  const input = chunk("c1");
  index.upsert(input);
  input.metadata.lang = "changed";
  const hit = index.search({ text: "topic1", k: 1 }).bm25[0];
  assert.equal(hit?.metadata.lang, "es");
  if (hit) hit.metadata.lang = "mutated";
  assert.equal(index.search({ text: "topic1", k: 1 }).bm25[0]?.metadata.lang, "es");
});

test("index-shard - Float32Array and number[] vectors are equivalent", () => {
  const index = new ShardIndex({ dimension: DIM });
  index.upsert(chunk("c1", { vector: Float32Array.from(axis(DIM, 4)) }));
  assert.equal(index.search({ vector: Float32Array.from(axis(DIM, 4)), k: 1 }).vector[0]?.id, "c1");
});

test("index-shard - bad input is refused as INVALID", () => {
  const index = filled(2);
  const bad: Array<() => unknown> = [
    () => index.upsert(chunk("c9", { vector: axis(DIM + 1, 0) })),
    () => index.upsert(chunk("c9", { id: "" })),
    () => index.upsert(chunk("c9", { docId: "" })),
    () => index.upsert(chunk("c9", { vector: [Number.NaN, 0, 0, 0, 0, 0, 0, 0] })),
    () => index.upsert(chunk("c9", { vector: [Infinity, 0, 0, 0, 0, 0, 0, 0] })),
    () => index.upsert(chunk("c9", { vector: [1e39, 0, 0, 0, 0, 0, 0, 0] })),
    () => index.upsert(chunk("c9", { metadata: { n: Number.NaN } })),
    () => index.upsert(chunk("c9", { metadata: { tags: ["a"] } as never })),
    () => index.upsert(chunk("c9", { ordinal: -1 })),
    () => index.upsert(chunk("c9", { text: undefined as never })),
    () => index.search({ vector: axis(DIM - 1, 0), k: 1 }),
    () => index.search({ vector: axis(DIM, 0), k: 0 }),
    () => index.search({ text: "x", k: 1.5 }),
    () => index.search({ text: "x", k: 1, filter: { n: Infinity } }),
    () => new ShardIndex({ dimension: 0 }),
    () => new ShardIndex({ dimension: 8, efSearch: -1 }),
  ];
  for (const [i, call] of bad.entries()) {
    assert.throws(call, (err) => isColmenaError(err, "INVALID"), `case ${i}`);
  }
  assert.equal(index.size, 2, "a refused write changes nothing");
});

/**
 * Forty chunks for the BM25 term-pruning tests: "how do the is" in every
 * chunk, "for with from" three times in c0..c23 (60%), "replicas" in c0..c9,
 * and a word of its own in each chunk.
 */
function wordy(): ShardIndex {
  const index = new ShardIndex({ dimension: DIM });
  for (let i = 0; i < 40; i++) {
    const common = i < 24 ? " for with from for with from for with from" : "";
    const replicas = i < 6 ? " replicas".repeat(1 + (i % 3)) : "";
    index.upsert(chunk(`c${i}`, { text: `how do the is word${i}${common}${replicas}` }));
  }
  return index;
}

test("index-shard - BM25 leaves out query terms found in more than a fifth of the chunks", () => {
  const index = wordy();
  const alone = index.search({ text: "replicas", k: 5 }).bm25;
  assert.equal(alone.length, 5);
  assert.deepEqual(index.search({ text: "How do the replicas work, is it for with from?", k: 5 }).bm25, alone, "same hits, same scores as the informative term alone");
});

test("index-shard - a rare word ranks first among common words that would outweigh it", () => {
  const index = wordy();
  // Searched whole, c0..c23 win on six matched common words; the rare word is all that tells chunks apart.
  assert.deepEqual(ids(index.search({ text: "how do the for with from word37", k: 5 }).bm25), ["c37"]);
  const [first] = index.search({ text: "how do the for with from replicas word37", k: 5 }).bm25;
  assert.equal(first?.id, "c37", "the rarest term weighs most");
});

test("index-shard - a question of common words only still finds chunks; stop words and unknown words find none", () => {
  const index = new ShardIndex({ dimension: DIM });
  for (let i = 0; i < 10; i++) index.upsert(chunk(`c${i}`, { text: `server cluster word${i}` }));
  assert.equal(index.search({ text: "server cluster", k: 5 }).bm25.length, 5, "every term common: the whole query runs");
  assert.equal(index.search({ text: "the server frobnicate", k: 5 }).bm25.length, 5);
  assert.deepEqual(index.search({ text: "how do the for with from", k: 5 }).bm25, [], "stop words are not indexed: the vector list answers such a question");
  assert.deepEqual(index.search({ text: "frobnicate", k: 5 }).bm25, []);
});

test("index-shard - which terms are common follows deletes, replacements and snapshots", async (t) => {
  const index = new ShardIndex({ dimension: DIM });
  ["alpha beta", "alpha gamma", "alpha delta", "epsilon zeta", "f1", "f2", "f3", "f4", "f5", "f6"].forEach((text, i) => index.upsert(chunk(`c${i}`, { text })));
  assert.deepEqual(ids(index.search({ text: "alpha epsilon", k: 4 }).bm25), ["c3"], "alpha is in 3 of 10 chunks");
  index.delete("c0");
  index.upsert(chunk("c1", { text: "epsilon eta" }));
  assert.deepEqual(ids(index.search({ text: "alpha epsilon", k: 4 }).bm25), ["c2"], "now epsilon is in 2 of 9 chunks, alpha in 1");

  const dir = await mkdtemp(join(tmpdir(), "colmena-bm25-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const big = wordy();
  await saveSnapshot(dir, big, 1);
  const loaded = await loadSnapshot(dir);
  assert.ok(loaded);
  for (const text of ["how do the for with from word37", "How do the replicas work, is it for with from?"]) {
    assert.deepEqual(loaded.index.search({ text, k: 5 }), big.search({ text, k: 5 }));
  }
  assert.deepEqual(ids(loaded.index.search({ text: "how do the for with from word37", k: 5 }).bm25), ["c37"]);
});
