/** The index shard's public surface: one shard's HNSW + BM25 state and its snapshots. */
export { ShardIndex } from "./shard-index.js";
export { saveSnapshot, loadSnapshot } from "./snapshot.js";
export type { LoadedSnapshot, LoadOptions } from "./snapshot.js";
export type { Chunk, Hit, Metadata, MetadataValue, ShardIndexOptions, ShardQuery, ShardResults } from "./types.js";
