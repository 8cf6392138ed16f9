/**
 * actors/cache: the node's three-level answer cache (in-process LRU, a NATS
 * KV bucket shared by every node, an on-disk store), its keys and the FAQ
 * list used to warm it.
 */
export { AnswerCache, CACHE_BUCKETS, CacheConfigSchema } from "./answer-cache.js";
export type { AnswerCacheOptions, CacheConfig, CacheConfigInput, CacheLevel, CacheStats, LevelStats } from "./answer-cache.js";
export { cacheKey, ENTRY_KINDS, keyKind, normaliseQuestion } from "./cache-key.js";
export type { CacheKeyParts, EntryKind } from "./cache-key.js";
export { DiskStore } from "./disk-store.js";
export type { DiskStoreOptions } from "./disk-store.js";
export { readFaq } from "./faq.js";
