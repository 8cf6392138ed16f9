import assert from "node:assert/strict";
import { test } from "node:test";
import { lengthBuckets } from "../../actors/embedder/embed-task.js";

const texts = (...lengths: number[]) => lengths.map((n) => ({ ids: Array.from({ length: n }, (_, i) => i), truncated: false }));

test("length buckets - rows are sorted by length and every row is in exactly one run", () => {
  const runs = lengthBuckets(texts(30, 5, 12, 5, 31, 6), 4096);
  assert.deepEqual(runs.flat().sort(), [0, 1, 2, 3, 4, 5]);
  const lengths = runs.flat().map((i) => [30, 5, 12, 5, 31, 6][i]!);
  assert.deepEqual(lengths, [...lengths].sort((a, b) => a - b));
});

test("length buckets - a short text is never padded to a long one's length", () => {
  // 10, 10, 11 pad to 11 (two tokens of padding over 31 real); 14 and 30 would pad far more, so they run apart.
  const runs = lengthBuckets(texts(30, 10, 14, 10, 31, 11), 4096);
  assert.deepEqual(runs, [[1, 3, 5], [2], [0, 4]]);
  for (const run of runs) {
    const lengths = run.map((i) => [30, 10, 14, 10, 31, 11][i]!);
    const padded = run.length * Math.max(...lengths);
    assert.ok(padded <= 1.1 * lengths.reduce((a, b) => a + b, 0));
  }
});

test("length buckets - the padded-token cap splits equal lengths, and a text over the cap runs alone", () => {
  assert.deepEqual(lengthBuckets(texts(10, 10, 10, 10), 20), [[0, 1], [2, 3]]);
  assert.deepEqual(lengthBuckets(texts(50, 10), 20), [[1], [0]]);
});
