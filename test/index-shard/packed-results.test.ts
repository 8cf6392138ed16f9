import assert from "node:assert/strict";
import { test } from "node:test";
import { packResults, unpackResults, type Hit } from "../../actors/index.js";
import { isColmenaError } from "../../runtime/index.js";

const hit = (id: string, score: number): Hit => ({ id, docId: id.split("#")[0]!, score, text: `text of ${id}`, metadata: { source: `${id}.md` }, ordinal: 0 });

test("packed results - a chunk in both lists travels once, and unpacking gives both lists back with their own scores", () => {
  const results = { vector: [hit("a#0", 0.9), hit("b#0", 0.5)], bm25: [hit("b#0", 7.5), hit("c#1", 3), hit("a#0", 1)] };
  const packed = packResults(results, { lastSeq: 41, catchingUp: false });
  assert.deepEqual(packed.chunks.map((c) => c.id), ["a#0", "b#0", "c#1"]);
  assert.ok(packed.chunks.every((c) => !("score" in c)));
  assert.deepEqual(packed.bm25, [[1, 7.5], [2, 3], [0, 1]]);
  assert.deepEqual(unpackResults(packed), { ...results, catchingUp: false, lastSeq: 41 });
  assert.deepEqual(unpackResults(packResults({ vector: [], bm25: [] }, { lastSeq: 0, catchingUp: false })), { vector: [], bm25: [], catchingUp: false, lastSeq: 0 });
  assert.equal(unpackResults(packResults(results, { lastSeq: 3, catchingUp: true })).catchingUp, true, "a replica still replaying its log says so");
  const { lastSeq: _, ...older } = packed;
  assert.equal(unpackResults(older as typeof packed).lastSeq, 0, "a reply without lastSeq counts as one that applied nothing");
});

test("packed results - a pair naming no chunk is a broken reply (INTERNAL), not a hit without text", () => {
  const packed = packResults({ vector: [hit("a#0", 0.9)], bm25: [] }, { lastSeq: 1, catchingUp: false });
  assert.throws(() => unpackResults({ ...packed, bm25: [[3, 1]] }), (err) => isColmenaError(err, "INTERNAL") && /chunk 3 of 1/.test(err.message));
});
