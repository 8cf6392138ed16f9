/**
 * A shard's search answer as it travels: each chunk once, and each list as
 * `[position in chunks, score]` pairs, best first. The vector and BM25
 * lists of one question share many of their chunks, and a chunk's text is
 * most of its bytes, so a reply that repeated each hit's text and metadata
 * per list paid for them twice in the encoding, on NATS and in the decoding.
 */
import { ColmenaError } from "../../runtime/index.js";
import type { Hit, ShardResults } from "./types.js";

export type PackedChunk = Omit<Hit, "score">;

export interface PackedShardResults {
  chunks: PackedChunk[];
  vector: Array<[number, number]>;
  bm25: Array<[number, number]>;
  /** The replica has yet to reach the log's end as it was at its activation: it may lack writes others hold. */
  catchingUp?: true;
  /** Stream sequence of the last write-log entry the replica had applied: the answer holds every write of its shard up to there. */
  lastSeq: number;
}

/** One replica's answer, unpacked: its hits, and how far through its shard's log it had got. */
export type ReplicaResults = ShardResults & { catchingUp: boolean; lastSeq: number };

/** The results with every chunk once, and where the replica stands in its log. */
export function packResults(results: ShardResults, replica: { lastSeq: number; catchingUp: boolean }): PackedShardResults {
  const chunks: PackedChunk[] = [];
  const at = new Map<string, number>();
  const list = (hits: readonly Hit[]): Array<[number, number]> =>
    hits.map(({ score, ...chunk }) => {
      let i = at.get(chunk.id);
      if (i === undefined) at.set(chunk.id, (i = chunks.push(chunk) - 1));
      return [i, score];
    });
  return { vector: list(results.vector), bm25: list(results.bm25), chunks, lastSeq: replica.lastSeq, ...(replica.catchingUp && { catchingUp: true as const }) };
}

/** The two lists of hits again; a pair that names no chunk is a broken reply (INTERNAL), never a hit without text. */
export function unpackResults(packed: PackedShardResults): ReplicaResults {
  const list = (pairs: ReadonlyArray<readonly [number, number]>): Hit[] =>
    pairs.map(([i, score]) => {
      const chunk = packed.chunks[i];
      if (chunk === undefined || typeof score !== "number") throw new ColmenaError("INTERNAL", `shard reply names chunk ${i} of ${packed.chunks.length}`);
      return { ...chunk, score };
    });
  // A reply without lastSeq (a replica of an older version) counts as having applied nothing: its answers are not cached.
  return { vector: list(packed.vector), bm25: list(packed.bm25), catchingUp: packed.catchingUp === true, lastSeq: typeof packed.lastSeq === "number" ? packed.lastSeq : 0 };
}
