import { test } from "node:test";
import assert from "node:assert/strict";
import { ShardIndex } from "../../actors/index-shard/index.js";
import { prng, randomVectors } from "./random-vectors.js";

const COUNT = 20_000;
const DIM = 128;
const QUERIES = 100;
const K = 10;

function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The exact top-k by cosine similarity. */
function bruteForce(data: Float32Array[], query: Float32Array, k: number): Set<string> {
  const q = unit(query);
  const scored = data.map((v, i) => {
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += (v[d] ?? 0) * (q[d] ?? 0);
    return { i, dot };
  });
  scored.sort((a, b) => b.dot - a.dot || a.i - b.i);
  return new Set(scored.slice(0, k).map(({ i }) => `v${i}`));
}

// Uniform random vectors are the hard case for HNSW (no low-dimensional
// structure to exploit); the default efSearch is chosen to pass it.
test("index-shard - HNSW top-10 recall on 20k random 128-d vectors is at least 0.95 at the default efSearch", (t) => {
  const random = prng(20_000);
  const data = randomVectors(COUNT, DIM, random);
  const queries = randomVectors(QUERIES, DIM, random);
  const index = new ShardIndex({ dimension: DIM });
  data.forEach((vector, i) => index.upsert({ id: `v${i}`, docId: "d", text: "", vector, metadata: {} }));
  const normalized = data.map(unit);
  let found = 0;
  for (const query of queries) {
    const truth = bruteForce(normalized, query, K);
    for (const hit of index.search({ vector: query, k: K }).vector) if (truth.has(hit.id)) found++;
  }
  const recall = found / (QUERIES * K);
  assert.ok(recall >= 0.95, `recall ${recall}`);
  t.diagnostic(`recall@${K} = ${recall.toFixed(3)} (efSearch ${index.efSearch}, M ${index.M}, efConstruction ${index.efConstruction})`);
});
