/**
 * Next-token choice from a logits row: greedy when the temperature is 0 or
 * absent, otherwise temperature, then top-k, then top-p (nucleus), drawn with
 * a seeded PRNG so that the same seed gives the same tokens.
 */
import { randomInt } from "node:crypto";

export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export type Sampler = (logits: Float32Array) => number;

export function createSampler(opts: SamplingOptions): Sampler {
  const temperature = opts.temperature ?? 0;
  if (temperature === 0) return argmax;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  const rand = mulberry32(opts.seed ?? randomInt(2 ** 32));
  return (logits) => sample(logits, temperature, topK, topP, rand);
}

/** The index of the largest logit; the lowest index wins a tie. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

/** A small, fast 32-bit PRNG returning floats in [0, 1). Seeds beyond 32 bits are folded in. */
export function mulberry32(seed: number): () => number {
  let a = (seed ^ Math.imul(Math.floor(seed / 2 ** 32), 0x9e3779b1)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(logits: Float32Array, temperature: number, topK: number, topP: number, rand: () => number): number {
  const max = logits[argmax(logits)] as number;
  const weights = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) weights[i] = Math.exp(((logits[i] as number) - max) / temperature);
  if (topK === 0 && topP === 1) return draw(weights, rand);
  let candidates = mostLikely(weights, topK, topP);
  if (topK > 0) candidates = candidates.slice(0, topK);
  if (topP < 1) candidates = nucleus(candidates, weights, topP);
  return draw(weights, rand, candidates);
}

/**
 * The most likely ids in descending order (ties by id), enough of them to
 * hold the top k or, without k, a mass of at least topP. Only the ids above a
 * falling weight threshold are sorted, so a 100k vocabulary costs a scan, not a sort.
 */
function mostLikely(weights: Float64Array, topK: number, topP: number): number[] {
  let total = 0;
  for (const w of weights) total += w;
  for (let threshold = 2 ** -10; ; threshold = threshold < 1e-300 ? 0 : threshold * 2 ** -10) {
    const ids: number[] = [];
    let mass = 0;
    weights.forEach((w, i) => {
      if (w >= threshold) {
        ids.push(i);
        mass += w;
      }
    });
    const enough = topK > 0 ? ids.length >= topK : mass >= topP * total;
    if (enough || threshold === 0) return ids.sort((a, b) => (weights[b] as number) - (weights[a] as number) || a - b);
  }
}

/** The shortest prefix of the sorted candidates whose share of their mass reaches topP. */
function nucleus(sorted: number[], weights: Float64Array, topP: number): number[] {
  let total = 0;
  for (const id of sorted) total += weights[id] as number;
  let mass = 0;
  for (let n = 0; n < sorted.length; n++) {
    mass += weights[sorted[n] as number] as number;
    if (mass >= topP * total) return sorted.slice(0, n + 1);
  }
  return sorted;
}

function draw(weights: Float64Array, rand: () => number, ids?: number[]): number {
  const pick = ids ?? Array.from(weights.keys());
  let total = 0;
  for (const id of pick) total += weights[id] as number;
  let r = rand() * total;
  let last = pick[0] as number;
  for (const id of pick) {
    const w = weights[id] as number;
    if (w === 0) continue;
    last = id;
    r -= w;
    if (r < 0) return id;
  }
  return last;
}
