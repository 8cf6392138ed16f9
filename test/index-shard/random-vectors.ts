/** Seeded vectors for shard tests: the same seed gives the same data on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
