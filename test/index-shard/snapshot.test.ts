import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShardIndex, loadSnapshot, saveSnapshot } from "../../actors/index-shard/index.js";
import type { ShardQuery, ShardResults } from "../../actors/index-shard/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { prng, randomVectors } from "./random-vectors.js";

const DIM = 16;
const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "colmena-snapshot-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function build(count: number, seed: number): ShardIndex {
  const random = prng(seed);
  const index = new ShardIndex({ dimension: DIM, initialCapacity: 16 });
  randomVectors(count, DIM, random).forEach((vector, i) => {
    const text = Array.from({ length: 6 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
    index.upsert({ id: `c${i}`, docId: `d${i % 10}`, text, vector, metadata: { tenant: i % 3 === 0 ? "a" : "b", even: i % 2 === 0 }, ordinal: i });
  });
  index.deleteDocument("d7");
  for (let i = 0; i < count; i += 11) index.delete(`c${i}`);
  return index;
}

function queries(seed: number): ShardQuery[] {
  const vectors = randomVectors(5, DIM, prng(seed));
  return vectors.flatMap((vector, i): ShardQuery[] => [
    { vector, text: `${WORDS[i]} ${WORDS[i + 2]}`, k: 10 },
    { vector, text: WORDS[i] ?? "", k: 7, filter: { tenant: "a" } },
    { vector, k: 500, filter: { even: true } },
  ]);
}

test("index-shard - a snapshot loads back with the same search results", async (t) => {
  const dir = await tempDir(t);
  const index = build(300, 1);
  await saveSnapshot(dir, index, 42);
  const loaded = await loadSnapshot(dir);
  assert.ok(loaded);
  assert.equal(loaded.lastSeq, 42);
  assert.equal(loaded.index.size, index.size);
  assert.equal(loaded.index.efSearch, index.efSearch);
  // BM25 is rebuilt from the texts on load: its running averages may differ in the last bits, nothing else may.
  const rounded = (r: ShardResults) => ({ vector: r.vector, bm25: r.bm25.map((h) => ({ ...h, score: Number(h.score.toPrecision(12)) })) });
  for (const q of queries(2)) assert.deepEqual(rounded(loaded.index.search(q)), rounded(index.search(q)));
});

test("index-shard - a loaded snapshot keeps taking writes", async (t) => {
  const dir = await tempDir(t);
  await saveSnapshot(dir, build(100, 3), 7);
  const loaded = await loadSnapshot(dir);
  assert.ok(loaded);
  const { index } = loaded;
  const capacity = index.capacity;
  const [vector] = randomVectors(1, DIM, prng(4));
  assert.ok(vector);
  for (let i = 0; i < 5; i++) index.upsert({ id: `new${i}`, docId: "dn", text: "brand new words", vector, metadata: {} });
  index.upsert({ id: "c1", docId: "d1", text: "rewritten", vector, metadata: {} });
  assert.equal(index.capacity, capacity, "slots freed before the snapshot are reused");
  assert.equal(index.search({ text: "brand", k: 10 }).bm25.length, 5);
  assert.deepEqual(index.search({ text: "rewritten", k: 10 }).bm25.map((h) => h.id), ["c1"]);
  assert.equal(index.deleteDocument("dn"), 5);
});

test("index-shard - an empty index snapshots and loads", async (t) => {
  const dir = await tempDir(t);
  await saveSnapshot(dir, new ShardIndex({ dimension: DIM }), 0);
  const loaded = await loadSnapshot(dir);
  assert.equal(loaded?.index.size, 0);
  assert.equal(loaded?.lastSeq, 0);
});

test("index-shard - a new snapshot replaces the older ones", async (t) => {
  const dir = await tempDir(t);
  await saveSnapshot(dir, build(20, 5), 10);
  await saveSnapshot(dir, build(30, 6), 20);
  await saveSnapshot(dir, build(40, 7), 30);
  const entries = await readdir(dir);
  assert.equal(entries.length, 1);
  assert.match(entries[0] ?? "", /^snapshot-0+3$/);
  assert.equal((await loadSnapshot(dir))?.lastSeq, 30);
});

test("index-shard - no snapshot loads as undefined", async (t) => {
  const dir = await tempDir(t);
  assert.equal(await loadSnapshot(dir), undefined);
  assert.equal(await loadSnapshot(join(dir, "missing")), undefined);
});

test("index-shard - a half-written snapshot is ignored and the previous one loads", async (t) => {
  const dir = await tempDir(t);
  await saveSnapshot(dir, build(50, 8), 5);
  const [good] = await readdir(dir);
  assert.ok(good);
  // A crash before the rename: a temp directory with files and no manifest.
  await cp(join(dir, good), join(dir, ".tmp-crashed"), { recursive: true });
  await rm(join(dir, ".tmp-crashed", "MANIFEST.json"));
  // A newer-looking directory without a manifest, and one whose file was cut short.
  await cp(join(dir, ".tmp-crashed"), join(dir, "snapshot-000000000009"), { recursive: true });
  await cp(join(dir, good), join(dir, "snapshot-000000000008"), { recursive: true });
  const manifest = await readFile(join(dir, good, "MANIFEST.json"), "utf8");
  await writeFile(join(dir, "snapshot-000000000008", "MANIFEST.json"), manifest.replace('"generation":1', '"generation":8'));
  await truncate(join(dir, "snapshot-000000000008", "hnsw.bin"), 100);
  const skipped: string[] = [];
  const loaded = await loadSnapshot(dir, { onSkip: (path) => skipped.push(path) });
  assert.equal(loaded?.lastSeq, 5);
  assert.equal(loaded?.index.size, build(50, 8).size);
  assert.deepEqual(skipped, [join(dir, "snapshot-000000000009"), join(dir, "snapshot-000000000008")]);
  // The next save clears the debris.
  await saveSnapshot(dir, build(10, 9), 6);
  assert.deepEqual(await readdir(dir), ["snapshot-000000000010"]);
});

test("index-shard - a bad lastSeq is refused as INVALID", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(saveSnapshot(dir, build(5, 10), -1), (err) => isColmenaError(err, "INVALID"));
  await assert.rejects(saveSnapshot(dir, build(5, 10), 1.5), (err) => isColmenaError(err, "INVALID"));
});
