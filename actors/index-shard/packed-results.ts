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
}

/** The results with every chunk once. */
export function packResults(results: ShardResults): PackedShardResults {
  const chunks: PackedChunk[] = [];
  const at = new Map<string, number>();
  const list = (hits: readonly Hit[]): Array<[number, number]> =>
    hits.map(({ score, ...chunk }) => {
      let i = at.get(chunk.id);
      if (i === undefined) at.set(chunk.id, (i = chunks.push(chunk) - 1));
      return [i, score];
    });
  return { vector: list(results.vector), bm25: list(results.bm25), chunks };
}

/** The two lists of hits again; a pair that names no chunk is a broken reply (INTERNAL), never a hit without text. */
export function unpackResults(packed: PackedShardResults): ShardResults & { catchingUp: boolean } {
  const list = (pairs: ReadonlyArray<readonly [number, number]>): Hit[] =>
    pairs.map(([i, score]) => {
      const chunk = packed.chunks[i];
      if (chunk === undefined || typeof score !== "number") throw new ColmenaError("INTERNAL", `shard reply names chunk ${i} of ${packed.chunks.length}`);
      return { ...chunk, score };
    });
  return { vector: list(packed.vector), bm25: list(packed.bm25), catchingUp: packed.catchingUp === true };
}
