/** Seeded vectors for shard tests: the same seed gives the same data on every run. */
export { mulberry32 as prng } from "../../actors/llm/sampling.js";

/** `count` vectors with components uniform in [-1, 1). */
export function randomVectors(count: number, dimension: number, random: () => number): Float32Array[] {
  return Array.from({ length: count }, () => Float32Array.from({ length: dimension }, () => random() * 2 - 1));
}

/** A unit vector along `axis`, nudged by `tilt` towards the next axis. */
export function axis(dimension: number, index: number, tilt = 0): number[] {
  const v = new Array<number>(dimension).fill(0);
  v[index % dimension] = 1;
  v[(index + 1) % dimension] = tilt;
  return v;
}
