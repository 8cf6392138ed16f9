/**
 * Reciprocal-rank fusion of the shards' answers to one query.
 *
 * Scores of one kind are comparable across shards (cosine similarity
 * exactly, BM25 nearly: each shard has its own term statistics), so each
 * kind is first merged into one ranking over all shards, keeping a chunk
 * once at its best score. RRF then adds 1 / (k + rank) over the two rankings.
 * Fusing each shard's lists separately instead would give every shard's
 * local first hit the weight of the global first hit.
 */
import { invalid } from "../../runtime/index.js";
import type { Hit, ShardResults } from "../index-shard/index.js";

export interface FuseOptions {
  /** RRF damping constant (default 60): larger flattens the advantage of top ranks. */
  k?: number;
  topK: number;
  /** Weight of each ranking's 1 / (k + rank) (default 1 each): a list that ranks worse counts for less. */
  weights?: FusionWeights;
}

export interface FusionWeights {
  vector: number;
  bm25: number;
}

export interface FusedHit extends Hit {
  /** The RRF score: the sum of 1 / (k + rank) over the rankings the chunk is in. */
  score: number;
  vectorScore?: number;
  bm25Score?: number;
  /** 1-based rank in each merged ranking the chunk is in. */
  ranks: { vector?: number; bm25?: number };
}

export const DEFAULT_RRF_K = 60;

/** The `topK` best chunks over all shards, best first; ties go to the better single rank, then the smaller id. */
export function fuse(results: readonly ShardResults[], opts: FuseOptions): FusedHit[] {
  const k = opts.k ?? DEFAULT_RRF_K;
  if (typeof k !== "number" || !Number.isFinite(k) || k < 0) throw invalid("k must be a finite number >= 0", { k });
  if (!Number.isSafeInteger(opts.topK) || opts.topK < 1) throw invalid("topK must be a positive integer", { topK: opts.topK });

  const weights = opts.weights ?? { vector: 1, bm25: 1 };
  if (![weights.vector, weights.bm25].every((w) => Number.isFinite(w) && w >= 0)) throw invalid("weights must be finite numbers >= 0", { ...weights });
  const fused = new Map<string, FusedHit>();
  const add = (ranking: Hit[], kind: "vector" | "bm25") => {
    ranking.forEach((hit, i) => {
      const entry = fused.get(hit.id) ?? { ...hit, score: 0, ranks: {} };
      entry.ranks[kind] = i + 1;
      entry[kind === "vector" ? "vectorScore" : "bm25Score"] = hit.score;
      entry.score += weights[kind] / (k + i + 1);
      fused.set(hit.id, entry);
    });
  };
  add(mergeByScore(results.map((r) => r.vector)), "vector");
  add(mergeByScore(results.map((r) => r.bm25)), "bm25");
  return [...fused.values()].sort(byFusedOrder).slice(0, opts.topK);
}

/** One ranking from many lists of one kind: each chunk once, at its best score. */
function mergeByScore(lists: Hit[][]): Hit[] {
  const best = new Map<string, Hit>();
  for (const hit of lists.flat()) {
    const seen = best.get(hit.id);
    if (seen === undefined || hit.score > seen.score) best.set(hit.id, hit);
  }
  return [...best.values()].sort((a, b) => b.score - a.score || compareIds(a.id, b.id));
}

function byFusedOrder(a: FusedHit, b: FusedHit): number {
  return b.score - a.score || bestRank(a) - bestRank(b) || compareIds(a.id, b.id);
}

const bestRank = (hit: FusedHit) => Math.min(hit.ranks.vector ?? Infinity, hit.ranks.bm25 ?? Infinity);

/** Code-unit order: the same on every node, whatever its locale. */
const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
