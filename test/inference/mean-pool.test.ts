import assert from "node:assert/strict";
import { test } from "node:test";
import { poolOutputs } from "../../actors/inference/mean-pool.js";

test("mean pool - each row's mean over the positions its mask keeps; padding never enters it, a row with none is zero", () => {
  // batch 3, seq 2, dim 2
  const hidden = new Float32Array([1, 2, 3, 4, 10, 20, 99, 99, 5, 6, 7, 8]);
  const mask = new BigInt64Array([1n, 1n, 1n, 0n, 0n, 0n]);
  const out = poolOutputs({ h: { type: "float32", data: hidden, dims: [3, 2, 2] }, other: { type: "int32", data: new Int32Array([7]), dims: [1] } }, { m: { type: "int64", data: mask, dims: [3, 2] } }, { output: "h", mask: "m" });
  assert.deepEqual(out.h!.dims, [3, 2]);
  assert.deepEqual([...(out.h!.data as Float32Array)], [2, 3, 10, 20, 0, 0]);
  assert.deepEqual([...(out.other!.data as Int32Array)], [7], "other outputs pass through");
});

test("mean pool - an output or mask that does not fit is an error naming it", () => {
  const hidden = { type: "float32" as const, data: new Float32Array(4), dims: [1, 2, 2] };
  assert.throws(() => poolOutputs({ h: { ...hidden, dims: [2, 2] } }, { m: { type: "int64", data: new BigInt64Array(2), dims: [1, 2] } }, { output: "h", mask: "m" }), /output h must be float32 \[batch, sequence, hidden\]/);
  assert.throws(() => poolOutputs({ h: hidden }, { m: { type: "int64", data: new BigInt64Array(3), dims: [1, 3] } }, { output: "h", mask: "m" }), /feed m must be int64 \[1, 2\]/);
  assert.throws(() => poolOutputs({ h: hidden }, {}, { output: "h", mask: "attention_mask" }), /feed attention_mask/);
});

test("mean pool - rows with more real tokens than one pass takes, padding between them, give each row's exact mean", () => {
  // batch 2, seq 11, dim 3: row 0 keeps 9 positions (two passes of four and one left), row 1 keeps 4 with padding between.
  const [batch, seq, dim] = [2, 11, 3];
  const hidden = Float32Array.from({ length: batch * seq * dim }, (_, i) => (i * 7) % 23);
  const keep = [
    [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0],
    [0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1],
  ];
  const mask = BigInt64Array.from(keep.flat(), (k) => BigInt(k));
  const expected = keep.flatMap((row, r) =>
    Array.from({ length: dim }, (_, d) => {
      const kept = row.flatMap((k, t) => (k === 1 ? [hidden[(r * seq + t) * dim + d]!] : []));
      return Math.fround(kept.reduce((a, b) => a + b, 0) / kept.length);
    }),
  );
  const out = poolOutputs({ h: { type: "float32", data: hidden, dims: [batch, seq, dim] } }, { m: { type: "int64", data: mask, dims: [batch, seq] } }, { output: "h", mask: "m" });
  assert.deepEqual([...(out.h!.data as Float32Array)], expected);
});
