/** The index shard's public surface: one shard's HNSW + BM25 state, its snapshots, its write log and the keyed shard actor. */
export { ShardIndex } from "./shard-index.js";
export { packResults, unpackResults } from "./packed-results.js";
export type { PackedChunk, PackedShardResults, ReplicaResults } from "./packed-results.js";
export { saveSnapshot, loadSnapshot } from "./snapshot.js";
export type { LoadedSnapshot, LoadOptions } from "./snapshot.js";
export type { Chunk, Hit, Metadata, MetadataValue, ShardIndexOptions, ShardQuery, ShardResults } from "./types.js";
export { findIndex, IndexListSchema, IndexSpecSchema, parseShardKey, replicaKeys, shardKey, shardName } from "./index-spec.js";
export type { IndexSpec, IndexSpecInput, ShardAddress } from "./index-spec.js";
export { SHARD_KIND, ShardConfigSchema, ShardKind, shardActor } from "./shard-actor.js";
export type { ShardConfig, ShardConfigInput } from "./shard-actor.js";
export type { ReplicaStats } from "./shard-replica.js";
export { ensureShards, replicasBehind, shardLogEnds, waitForShards } from "./shards.js";
export { keepShardsUp } from "./keep-shards-up.js";
export type { EnsureOptions, WaitOptions } from "./shards.js";
export { chunkId, openShardLog, SHARD_LOG, ShardLogWriter, shardLogSubject, shardOf, ShardWriteSchema } from "./write-log.js";
export type { ShardWrite } from "./write-log.js";
export { STOP_WORDS } from "./text-terms.js";
export { DocumentIdSchema, MAX_DOCUMENT_ID_LENGTH } from "./wire-schemas.js";
