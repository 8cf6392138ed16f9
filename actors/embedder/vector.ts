/** Vector arithmetic shared by the embedders. */

/** Scales `v` in place to unit length; a zero vector stays zero. */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum === 0) return v;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i]! *= scale;
  return v;
}

/**
 * Mean of the rows of one [seq, dim] slice of a [batch, seq, dim] tensor,
 * over the positions whose mask is 1: padding never enters the mean.
 */
export function meanPool(hidden: Float32Array, mask: BigInt64Array, row: number, seq: number, dim: number): Float32Array {
  const sum = new Float64Array(dim);
  let count = 0;
  for (let t = 0; t < seq; t++) {
    if (mask[row * seq + t] === 0n) continue;
    const offset = (row * seq + t) * dim;
    for (let d = 0; d < dim; d++) sum[d]! += hidden[offset + d]!;
    count++;
  }
  const mean = new Float32Array(dim);
  for (let d = 0; d < dim; d++) mean[d] = count === 0 ? 0 : sum[d]! / count;
  return mean;
}
