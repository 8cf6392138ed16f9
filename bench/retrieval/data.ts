/** Seeded data and recall for the retrieval suite (percentiles and reporting are in stats.ts). */
import { mulberry32 } from "../../actors/llm/sampling.js";

/** `count` × `dimension` floats uniform in [-1, 1), row-major; the same seed gives the same data in every process. */
export function randomMatrix(count: number, dimension: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < out.length; i++) out[i] = random() * 2 - 1;
  return out;
}

export const row = (m: Float32Array, dimension: number, i: number): Float32Array => m.subarray(i * dimension, (i + 1) * dimension);

/** Mean over queries of |found ∩ truth| / |truth|. */
export function recall(found: readonly (readonly (string | number)[])[], truth: readonly (readonly (string | number)[])[]): number {
  let total = 0;
  truth.forEach((t, i) => {
    const f = new Set(found[i] ?? []);
    total += t.filter((id) => f.has(id)).length / Math.max(1, t.length);
  });
  return total / Math.max(1, truth.length);
}
