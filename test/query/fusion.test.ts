import { test } from "node:test";
import assert from "node:assert/strict";
import { fuse, DEFAULT_RRF_K } from "../../actors/query/index.js";
import type { Hit, ShardResults } from "../../actors/index-shard/index.js";
import { isColmenaError } from "../../runtime/index.js";

const hit = (id: string, score: number): Hit => ({ id, docId: `doc-${id}`, score, text: `text ${id}`, metadata: { id } });
/** A list whose scores fall with position, so its order is its ranking. */
const ranked = (...ids: string[]): Hit[] => ids.map((id, i) => hit(id, 1 - i / 100));
const shard = (vector: Hit[], bm25: Hit[]): ShardResults => ({ vector, bm25 });
const rrf = (...ranks: number[]) => ranks.reduce((sum, r) => sum + 1 / (DEFAULT_RRF_K + r), 0);

test("query - fusion ranks by reciprocal rank over the vector and BM25 rankings", () => {
  const fused = fuse([shard(ranked("a", "b", "c"), ranked("c", "a", "d"))], { topK: 10 });
  assert.deepEqual(fused.map((h) => h.id), ["a", "c", "b", "d"]);
  assert.deepEqual(fused.map((h) => h.score), [rrf(1, 2), rrf(3, 1), rrf(2), rrf(3)]);
  assert.deepEqual(fused[1]?.ranks, { vector: 3, bm25: 1 });
  assert.equal(fused[1]?.vectorScore, 0.98);
  assert.equal(fused[1]?.bm25Score, 1);
  assert.deepEqual(fused[2]?.ranks, { vector: 2 });
  assert.equal(fused[2]?.bm25Score, undefined);
  assert.equal(fused[3]?.vectorScore, undefined);
  assert.deepEqual({ ...fused[3], score: 0, ranks: {}, bm25Score: 0 }, { ...hit("d", 0), ranks: {}, bm25Score: 0 }, "the hit's fields travel along");
});

test("query - fusion merges each kind across shards by score before ranking", () => {
  const fused = fuse(
    [shard([hit("x", 0.9), hit("y", 0.5)], []), shard([hit("z", 0.8)], [hit("y", 3)])],
    { topK: 10 },
  );
  assert.deepEqual(fused.map((h) => [h.id, h.ranks]), [
    ["y", { vector: 3, bm25: 1 }],
    ["x", { vector: 1 }],
    ["z", { vector: 2 }],
  ]);
});

test("query - fusion keeps a chunk once when shards or replicas return it twice", () => {
  const replicaA = shard([hit("a", 0.7), hit("b", 0.6)], [hit("a", 2)]);
  const replicaB = shard([hit("a", 0.9), hit("b", 0.6)], [hit("a", 2)]);
  const fused = fuse([replicaA, replicaB], { topK: 10 });
  assert.deepEqual(fused.map((h) => h.id), ["a", "b"]);
  assert.equal(fused[0]?.vectorScore, 0.9, "the best score of the duplicates");
  assert.equal(fused[0]?.score, rrf(1, 1), "counted once per ranking");
  assert.equal(fused[1]?.score, rrf(2));
});

test("query - fusion breaks ties by best rank, then id, whatever the input order", () => {
  const lists = [shard(ranked("m", "q"), ranked("p", "n"))];
  const expected = ["m", "p", "n", "q"];
  assert.deepEqual(fuse(lists, { topK: 10 }).map((h) => h.id), expected);
  const swapped = [shard(ranked("m", "q"), []), shard([], ranked("p", "n"))].reverse();
  assert.deepEqual(fuse(swapped, { topK: 10 }).map((h) => h.id), expected);
  const equalScores = [shard([hit("b", 0.5), hit("a", 0.5)], [])];
  assert.deepEqual(fuse(equalScores, { topK: 10 }).map((h) => h.id), ["a", "b"]);
});

test("query - fusion keeps topK and honours k", () => {
  const lists = [shard(ranked("a", "b", "c", "d"), ranked("d", "c", "b", "a"))];
  assert.equal(fuse(lists, { topK: 2 }).length, 2);
  assert.deepEqual(fuse([], { topK: 5 }), []);
  const fused = fuse([shard(ranked("a", "b"), ranked("b"))], { k: 0, topK: 5 });
  assert.deepEqual(fused.map((h) => [h.id, h.score]), [["b", 1 / 2 + 1], ["a", 1]]);
});

test("query - bad fusion options are refused as INVALID", () => {
  for (const opts of [{ topK: 0 }, { topK: 1.5 }, { topK: 3, k: -1 }, { topK: 3, k: Number.NaN }]) {
    assert.throws(() => fuse([], opts), (err) => isColmenaError(err, "INVALID"), JSON.stringify(opts));
  }
});
