/**
 * The index shard, a keyed actor: one activation per shard replica in the
 * cluster, keyed `<index>-<shard>-r<replica>`. It holds a ShardReplica
 * (index, write-log consumer, snapshots) and answers searches on it.
 */
import { z } from "zod";
import { actorAddress, ColmenaError, hostActor, stage, type ActorContext, type HandoverContext, type Log } from "../../runtime/index.js";
import { findIndex, IndexListSchema, parseShardKey, type IndexSpec, type ShardAddress } from "./index-spec.js";
import { ShardReplica, type ReplicaStats } from "./shard-replica.js";
import { packResults, type PackedShardResults } from "./packed-results.js";
import type { Hit, ShardResults } from "./types.js";
import { DocumentIdSchema, FilterSchema, VectorSchema } from "./wire-schemas.js";
import { openShardLog, SHARD_LOG } from "./write-log.js";
import { shardHits, shardSearch } from "../metrics.js";

const positive = z.number().int().positive();

export const ShardConfigSchema = z.strictObject({
  /** Replicas keep their snapshots under `<dataDir>/<index>/<shard>/r<replica>/`. */
  dataDir: z.string().min(1),
  indexes: IndexListSchema,
  snapshotEveryWrites: positive.default(10_000),
  snapshotIntervalMs: positive.default(60_000),
  /** Log entries a replica's consumer buffers at once. */
  pullBatch: positive.max(10_000).default(256),
  /** Redelivery of an entry not acked within this time (only matters for a stuck replica). */
  ackWaitMs: positive.default(60_000),
  /** Passivate a replica after this long without a message; absent: never, since a passivated replica stops applying its log. */
  idleMs: positive.optional(),
  /** Searches one replica runs at once (they are synchronous: this bounds queued work, not parallelism). */
  concurrency: positive.default(4),
  mailboxCapacity: positive.default(1024),
});

export type ShardConfig = z.infer<typeof ShardConfigSchema>;
export type ShardConfigInput = z.input<typeof ShardConfigSchema>;

export const SHARD_KIND = "index-shard";

const messages = {
  /** Vector top-k and BM25 top-k of this replica; each list is empty when its part of the query is absent. */
  search: z.object({
    vector: VectorSchema.optional(),
    text: z.string().optional(),
    k: positive.max(10_000),
    filter: FilterSchema.optional(),
  }),
  /** Chunks by id (without vectors); ids that are not there are left out. */
  get: z.object({ ids: z.array(z.string()).max(10_000) }),
  /** A document's chunk count and metadata, or null when this shard holds none of it. */
  document: z.object({ docId: DocumentIdSchema }),
  stats: z.object({}),
  /** Writes a snapshot now; answers the sequence it holds. */
  snapshot: z.object({}),
  /** One entry of the shard's write log, delivered by the runtime's durable intake (senders cannot send it); the replica checks the write, so a bad one still moves lastSeq on. */
  apply: z.object({ seq: positive, write: z.unknown() }),
};

type ShardBehavior = Awaited<ReturnType<typeof createShard>>;

/** The address of shard replicas, for `refs.ref(ShardKind, shardKey(...))`. */
export const ShardKind = actorAddress<typeof messages, ShardBehavior>({ kind: SHARD_KIND, placement: "keyed", messages });

/** How a node hosts shard replicas with these settings. */
export function shardActor(input: ShardConfigInput) {
  const config = ShardConfigSchema.parse(input);
  return hostActor(ShardKind, {
    concurrency: config.concurrency,
    mailbox: { capacity: config.mailboxCapacity },
    idleMs: config.idleMs ?? Infinity,
    create: (ctx: ActorContext) => createShard(ctx, config),
    intake: { type: "apply", source: (shard) => shard.writeLog() },
    stores: { logs: [SHARD_LOG.name] },
    calls: [],
    // A replica moves to a node that joined only once that node's own snapshot has caught up with the log.
    handover: { prepare: (ctx) => prepareReplica(ctx, config) },
    // The replicas of one shard on different nodes, where there are enough of them.
    spread: (key) => {
      const address = shardAddressOf(key);
      return address ? { group: `${address.index}-${address.shard}`, rank: address.replica } : { group: key, rank: 0 };
    },
  });
}

function openReplica(ctx: ActorContext | HandoverContext, config: ShardConfig, address: ShardAddress, spec: IndexSpec, writeLog: Log): ShardReplica {
  return new ShardReplica({
    writeLog,
    clock: ctx.clock,
    spec,
    address,
    dataDir: config.dataDir,
    log: ctx.log,
    snapshotEveryWrites: config.snapshotEveryWrites,
    snapshotIntervalMs: config.snapshotIntervalMs,
    pullBatch: config.pullBatch,
    ackWaitMs: config.ackWaitMs,
  });
}

/** On the node a replica is moving to: its snapshot there brought up to the log's end. */
async function prepareReplica(ctx: HandoverContext, config: ShardConfig): Promise<void> {
  const { address, spec, error } = locate(ctx.key, config);
  if (error !== undefined) throw error;
  const replica = openReplica(ctx, config, address, spec, await openShardLog(ctx.storage));
  await replica.start();
  try {
    const seq = await replica.catchUp(ctx.signal);
    ctx.log.info({ seq }, "shard replica caught up for a handover");
  } finally {
    await replica.stop();
  }
}

async function createShard(ctx: ActorContext, config: ShardConfig) {
  const { address, spec, error } = locate(ctx.key, config);
  if (error !== undefined) {
    // Throwing here would be a crash the supervisor restarts (and callers would wait out their deadline), so a
    // key that names no configured replica answers NOT_FOUND instead.
    const refuse = (): never => {
      throw error;
    };
    return { search: refuse, get: refuse, document: refuse, stats: refuse, snapshot: refuse, apply: refuse, writeLog: () => undefined };
  }
  const replica = openReplica(ctx, config, address, spec, await openShardLog(ctx.storage));
  await replica.start();
  return {
    /** Answered packed (packed-results.ts): each chunk's text once, not once per list. */
    search: (m: z.output<typeof messages.search>): PackedShardResults => {
      const q = { k: m.k, ...(m.vector !== undefined && { vector: m.vector }), ...(m.text !== undefined && { text: m.text }), ...(m.filter !== undefined && { filter: m.filter }) };
      const end = shardSearch.startTimer();
      const span = stage("shard search", { "colmena.index": address.index, "colmena.shard": address.shard, "colmena.shard.replica": address.replica });
      let results: ShardResults;
      try {
        results = replica.search(q);
      } catch (err) {
        span.end(err);
        throw err;
      }
      end();
      const hits = results.vector.length + results.bm25.length;
      shardHits.observe(hits);
      span.set({ "colmena.shard.hits": hits, "colmena.shard.vector_hits": results.vector.length, "colmena.shard.bm25_hits": results.bm25.length });
      span.end();
      return packResults(results, { lastSeq: replica.lastSeq, catchingUp: replica.catchingUp });
    },
    get: (m: { ids: string[] }): Omit<Hit, "score">[] => replica.get(m.ids),
    document: (m: { docId: string }) => replica.document(m.docId),
    stats: (): ReplicaStats => replica.stats(),
    snapshot: (): Promise<number> => replica.snapshotNow(),
    apply: (m: { seq: number; write: unknown }) => replica.apply(m.seq, m.write),
    /** Where the intake reads this replica's log from (not a message: the runtime asks it once per incarnation). */
    writeLog: () => replica.source<typeof messages>((entry) => ({ type: "apply", seq: entry.seq, write: entry.value })),
    onStop: () => replica.stop(),
  };
}

/** A key that names no replica is placed like any key; its activation answers NOT_FOUND. */
function shardAddressOf(key: string): ShardAddress | undefined {
  try {
    return parseShardKey(key);
  } catch {
    return undefined;
  }
}

function locate(key: string, config: ShardConfig): { address: ShardAddress; spec: IndexSpec; error?: undefined } | { address?: undefined; spec?: undefined; error: ColmenaError } {
  try {
    const address = parseShardKey(key);
    const spec = findIndex(config.indexes, address.index);
    if (address.shard >= spec.shards || address.replica >= spec.replicas) {
      throw new ColmenaError("NOT_FOUND", `${key}: index ${spec.name} has ${spec.shards} shards × ${spec.replicas} replicas`);
    }
    return { address, spec };
  } catch (err) {
    const error = ColmenaError.from(err);
    return { error: error.code === "INVALID" ? new ColmenaError("NOT_FOUND", error.message) : error };
  }
}
