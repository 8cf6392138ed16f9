import assert from "node:assert/strict";
import { test } from "node:test";
import { fuse, groupByDocument, type FusedHit } from "../../actors/query/index.js";
import type { Hit } from "../../actors/index-shard/index.js";

const hit = (id: string, docId: string, score: number): FusedHit => ({ id, docId, score, text: id, metadata: {}, ranks: {} });

test("query - one entry per document, its chunks best first, a second chunk adding a share", () => {
  const docs = groupByDocument([hit("a#0", "a", 1), hit("b#0", "b", 0.9), hit("a#1", "a", 0.5), hit("c#0", "c", 0.2)], 2);
  assert.deepEqual(docs.map((d) => d.docId), ["a", "b"]);
  assert.deepEqual(docs[0]!.hits.map((h) => h.id), ["a#0", "a#1"]);
  assert.ok(docs[0]!.score > 1 && docs[1]!.score === 0.9);
  const lifted = groupByDocument([hit("x#0", "x", 1), hit("y#0", "y", 0.9), hit("y#1", "y", 0.9)], 5);
  assert.deepEqual(lifted.map((d) => d.docId), ["y", "x"], "matching in two places can outrank one better chunk");
});

test("query - fusion weights scale each ranking and are checked", () => {
  const h = (id: string, score: number): Hit => ({ id, docId: id, score, text: "", metadata: {} });
  const lists = [{ vector: [h("v", 0.9), h("b", 0.8)], bm25: [h("b", 5), h("v", 1)] }];
  assert.deepEqual(fuse(lists, { topK: 2 }).map((x) => x.id), ["b", "v"], "equal weights: a tie, ordered by id");
  assert.deepEqual(fuse(lists, { topK: 2, weights: { vector: 1, bm25: 0.25 } }).map((x) => x.id), ["v", "b"]);
  assert.deepEqual(fuse(lists, { topK: 2, weights: { vector: 0.25, bm25: 1 } }).map((x) => x.id), ["b", "v"]);
  assert.throws(() => fuse(lists, { topK: 2, weights: { vector: -1, bm25: 1 } }), /weights/);
});
