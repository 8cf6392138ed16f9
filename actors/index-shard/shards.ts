/**
 * Bringing an index's replicas up and waiting for them. Keyed actors are
 * activated by their first message, but a replica must be active to apply
 * its write log, so a node that hosts shards calls `ensureShards` once it
 * has started (and any caller may call `waitForShards` to read its writes).
 */
import type { Storage } from "../../runtime/index.js";
import { ColmenaError } from "../../runtime/index.js";
import type { Refs } from "../../runtime/index.js";
import { replicaKeys, shardKey, type IndexSpec } from "./index-spec.js";
import { ShardKind } from "./shard-actor.js";
import type { ReplicaStats } from "./shard-replica.js";
import { openShardLog, shardLogSubject } from "./write-log.js";

export interface EnsureOptions {
  /** How long to keep trying one replica (activation may wait for a dead owner's lease). Default 15 s. */
  timeoutMs?: number;
}

/** Activates every replica of the index (where the runtime places it) and answers their stats. */
export async function ensureShards(actors: Refs, spec: IndexSpec, options: EnsureOptions = {}): Promise<ReplicaStats[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return Promise.all(replicaKeys(spec).map((a) => actors.ref(ShardKind, shardKey(a.index, a.shard, a.replica)).ask({ type: "stats" }, { timeoutMs })));
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Resolves once every replica of the index has applied its shard's log up to
 * the last entry stored when this was called, i.e. every write acknowledged
 * before the call is searchable. TIMEOUT names the replicas still behind.
 */
export async function waitForShards(storage: Storage, actors: Refs, spec: IndexSpec, options: WaitOptions = {}): Promise<ReplicaStats[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const pollMs = options.pollMs ?? 25;
  const targets = await shardLogEnds(storage, spec);
  let behind: string[] = [];
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new ColmenaError("TIMEOUT", `shard replicas still behind their write log: ${behind.join(", ")}`, { details: { behind } });
    const stats = await ensureShards(actors, spec, { timeoutMs: remaining });
    behind = behindOf(stats, targets);
    if (behind.length === 0) return stats;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * The replicas of the index that have not yet applied their shard's log up
 * to `ends` (shardLogEnds, read by whoever may read the log): empty when
 * every write stored by then is searchable.
 */
export async function replicasBehind(actors: Refs, spec: IndexSpec, ends: readonly number[], options: EnsureOptions = {}): Promise<string[]> {
  return behindOf(await ensureShards(actors, spec, options), ends);
}

/** The last sequence stored on each shard's subject of the write log. */
export async function shardLogEnds(storage: Storage, spec: IndexSpec): Promise<number[]> {
  const log = await openShardLog(storage);
  return Promise.all(Array.from({ length: spec.shards }, (_, s) => log.lastSequenceOn(shardLogSubject(log, spec.name, s))));
}

function behindOf(stats: ReplicaStats[], targets: readonly number[]): string[] {
  return stats.filter((s) => s.lastSeq < targets[s.shard]!).map((s) => shardKey(s.index, s.shard, s.replica));
}
