/**
 * Mean pooling where the session runs: an encoder's [batch, seq, dim] hidden
 * states become [batch, dim] sentence vectors before they cross back, so the
 * caller's thread neither receives nor walks the whole tensor (for a batch
 * of 32 texts it was most of what an embed allocated there, and the garbage
 * its collector paused for).
 */
import type { Feeds, MeanPool, TensorData } from "./runner.js";

/** The outputs with `pool.output` replaced by its masked mean; a shape that does not fit is an Error naming it. */
export function poolOutputs(outputs: Feeds, feeds: Feeds, pool: MeanPool): Feeds {
  const hidden = outputs[pool.output];
  const mask = feeds[pool.mask];
  if (hidden === undefined || !(hidden.data instanceof Float32Array) || hidden.dims.length !== 3) {
    throw new Error(`output ${pool.output} must be float32 [batch, sequence, hidden] to be pooled, got ${hidden?.type} [${hidden?.dims.join(", ")}]`);
  }
  const [batch, seq, dim] = hidden.dims as [number, number, number];
  if (mask === undefined || !(mask.data instanceof BigInt64Array) || mask.dims[0] !== batch || mask.dims[1] !== seq) {
    throw new Error(`feed ${pool.mask} must be int64 [${batch}, ${seq}] to pool ${pool.output} with, got ${mask?.type} [${mask?.dims.join(", ")}]`);
  }
  const pooled: TensorData = { type: "float32", data: meanRows(hidden.data, mask.data, batch, seq, dim), dims: [batch, dim] };
  return { ...outputs, [pool.output]: pooled };
}

function meanRows(hidden: Float32Array, mask: BigInt64Array, batch: number, seq: number, dim: number): Float32Array {
  const out = new Float32Array(batch * dim);
  const sum = new Float64Array(dim);
  const starts = new Int32Array(seq);
  for (let row = 0; row < batch; row++) {
    let count = 0;
    for (let t = 0; t < seq; t++) if (mask[row * seq + t] !== 0n) starts[count++] = (row * seq + t) * dim;
    if (count === 0) continue;
    sum.fill(0);
    // Four tokens per pass over the sum: a quarter of its loads and stores, which were most of the pooling's time.
    let k = 0;
    for (; k + 4 <= count; k += 4) {
      const a = starts[k]!, b = starts[k + 1]!, c = starts[k + 2]!, e = starts[k + 3]!;
      for (let d = 0; d < dim; d++) sum[d]! += hidden[a + d]! + hidden[b + d]! + hidden[c + d]! + hidden[e + d]!;
    }
    for (; k < count; k++) {
      const a = starts[k]!;
      for (let d = 0; d < dim; d++) sum[d]! += hidden[a + d]!;
    }
    for (let d = 0; d < dim; d++) out[row * dim + d] = sum[d]! / count;
  }
  return out;
}
