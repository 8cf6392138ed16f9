import type { LogHead, Logger, Storage } from "../../runtime/index.js";
import { openShardLog } from "../index-shard/index.js";

/**
 * The index version a cached answer is valid for: the last sequence of the
 * shard write log. Every ingest or delete appends to it, so an answer cached
 * before a write is never served after it.
 *
 * It is the log's head as the runtime follows it (see LogHead): in memory,
 * within the watch's propagation delay of a write, instead of read per
 * query. That is no weaker in practice: indexing is asynchronous anyway, a
 * write becomes searchable only once a shard replica has applied it from the
 * same log, which is later than the watch sees it. A question asked in that
 * window could already have been answered (and cached) with the old index
 * under a per-query read too.
 */
export type IndexVersion = LogHead;

/** Creates the write log if it is missing and follows its head. */
export async function followIndexVersion(storage: Storage, log?: Pick<Logger, "info" | "warn">): Promise<IndexVersion> {
  return (await openShardLog(storage)).follow(log === undefined ? {} : { log });
}
