import type { LogHead, Logger, Storage } from "../../runtime/index.js";
import { openShardLog, shardLogSubject } from "../index-shard/index.js";
import type { AppliedShard } from "../query/index.js";

/**
 * The index version a cached answer is valid for: the last sequence of the
 * shard write log. Every ingest or delete appends to it, so an answer cached
 * before a write is never served after it.
 *
 * It is the log's head as the runtime follows it (see LogHead): in memory,
 * within the watch's propagation delay of a write, instead of read per
 * query.
 *
 * A write is in the log before any shard replica has applied it, so an
 * answer retrieved right after one may lack it while the version already
 * counts it; cached under that version, it would be served until the next
 * write. `covers` says whether an answer may be cached: every shard that
 * answered had applied its log through the newest entry on its subject that
 * this head knows of, which is at least every entry up to a version read
 * before the answer was retrieved.
 */
export interface IndexVersion {
  current(): Promise<number>;
  /** Whether the replicas that answered had applied every write of their shards up to the version read before (so the answer holds them). */
  covers(applied: readonly AppliedShard[]): Promise<boolean>;
  stop(): Promise<void>;
}

/** Creates the write log if it is missing and follows its head. */
export async function followIndexVersion(storage: Storage, log?: Pick<Logger, "info" | "warn">): Promise<IndexVersion> {
  const writeLog = await openShardLog(storage);
  const head: LogHead = await writeLog.follow(log === undefined ? {} : { log });
  return {
    current: () => head.current(),
    async covers(applied) {
      const heads = await Promise.all(applied.map((a) => head.currentOn(shardLogSubject(writeLog, a.index, a.shard))));
      return applied.every((a, i) => a.lastSeq >= heads[i]!);
    },
    stop: () => head.stop(),
  };
}
