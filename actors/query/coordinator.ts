/**
 * The query coordinator (pooled): embeds the question through the embedder
 * pool, asks one replica of every shard in parallel under the caller's
 * deadline, and fuses the vector and BM25 lists by reciprocal-rank fusion.
 * A shard that errors on every replica it could try, or misses the deadline,
 * is left out and named: the answer is then `partial`.
 */
import { z } from "zod";
import { actorAddress, ColmenaError, hostActor, isColmenaError, stage, type ActorContext, type CallContext } from "../../runtime/index.js";
import { EmbedderKind } from "../embedder/embedder-actor.js";
import { findIndex, IndexListSchema, shardKey, shardName, type IndexSpec } from "../index-shard/index-spec.js";
import { ShardKind } from "../index-shard/shard-actor.js";
import { unpackResults, type ReplicaResults } from "../index-shard/index.js";
import type { Metadata } from "../index-shard/types.js";
import { FilterSchema, VectorSchema } from "../index-shard/wire-schemas.js";
import { DEFAULT_RRF_K, fuse, type FusedHit } from "./fusion.js";

const positive = z.number().int().positive();
const DEFAULT_WEIGHTS = { vector: 0.25, bm25: 1 };

export const CoordinatorConfigSchema = z.strictObject({
  indexes: IndexListSchema,
  /** Hits asked of each shard per list: max(topK, this). More candidates give RRF more overlap to work with. */
  candidates: positive.max(1_000).default(20),
  /** RRF damping constant. */
  rrfK: z.number().min(0).default(DEFAULT_RRF_K),
  /** Weight of each list in the fusion; the defaults are set on the evaluation's tuning half for the embedded default (eval/README.md). */
  weights: z.strictObject({ vector: z.number().min(0), bm25: z.number().min(0) }).default(DEFAULT_WEIGHTS),
  /** Time kept back from the caller's deadline to fuse and answer: max(this, 5% of the time left). */
  replyMarginMs: z.number().int().min(0).default(20),
  concurrency: positive.default(64),
  instances: positive.default(1),
});

export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;
export type CoordinatorConfigInput = z.input<typeof CoordinatorConfigSchema>;

export interface QueryAnswer {
  /** The topK chunks, best first, with their RRF score, list scores and ranks, text, document id and metadata. */
  hits: FusedHit[];
  /** True when some shard is missing from the answer. */
  partial: boolean;
  /** The shards (`<index>-<shard>`) that gave nothing in time. */
  missingShards: string[];
  /**
   * For each shard that answered, the last entry of the write log the
   * answering replica had applied: the answer holds every write up to there
   * and may lack later ones (the pipeline caches it only when these cover
   * the log as it knows it).
   */
  applied: AppliedShard[];
}

export interface AppliedShard {
  index: string;
  shard: number;
  lastSeq: number;
}

export const COORDINATOR_KIND = "query-coordinator";

const DEFAULT_TOP_K = 10;
const common = {
  topK: positive.max(1_000).default(DEFAULT_TOP_K),
  filter: FilterSchema.optional(),
  index: z.string().optional(),
};

const messages = {
  /** A question in words: embedded, then searched by vector and by BM25. */
  query: z.object({ question: z.string().refine((q) => q.trim().length > 0, "question is empty"), ...common }),
  /** A search with the caller's own vector and/or text (no embedding). */
  search: z.object({ vector: VectorSchema.optional(), text: z.string().optional(), ...common }),
};

type CoordinatorBehavior = ReturnType<typeof createCoordinator>;

/** The address of the coordinator pool. */
export const CoordinatorKind = actorAddress<typeof messages, CoordinatorBehavior>({ kind: COORDINATOR_KIND, placement: "pooled", messages });

/** How a node hosts the coordinator pool with these settings. */
export function coordinatorActor(input: CoordinatorConfigInput = {}) {
  const config = CoordinatorConfigSchema.parse(input);
  return hostActor(CoordinatorKind, {
    concurrency: config.concurrency,
    mailbox: { capacity: 1024 },
    instances: config.instances,
    create: (ctx: ActorContext) => createCoordinator(ctx, config),
    calls: [ShardKind.kind, EmbedderKind.kind],
  });
}

interface SearchRequest {
  vector?: Float32Array | number[] | undefined;
  text?: string | undefined;
  topK?: number | undefined;
  filter?: Metadata | undefined;
  index?: string | undefined;
}

interface ShardSearch {
  type: "search";
  k: number;
  vector: Float32Array | number[] | undefined;
  text: string | undefined;
  filter: Metadata | undefined;
}

function createCoordinator(ctx: ActorContext, config: CoordinatorConfig) {
  let turn = 0;

  const scatter = async (req: SearchRequest, call: CallContext): Promise<QueryAnswer> => {
    const spec = findIndex(config.indexes, req.index);
    if (req.vector === undefined && (req.text === undefined || req.text.trim() === "")) throw new ColmenaError("INVALID", "a search needs a vector, a text or both");
    if (req.vector !== undefined && req.vector.length !== spec.dimension) {
      throw new ColmenaError("INVALID", `vector has dimension ${req.vector.length}; index ${spec.name} holds ${spec.dimension}-d vectors`);
    }
    const topK = req.topK ?? DEFAULT_TOP_K;
    // Shards must answer early enough to leave time to fuse and reply (a tell has no deadline: the shards get the default).
    const shardDeadline = call.deadline === Infinity ? Infinity : call.deadline - Math.max(config.replyMarginMs, Math.floor(call.remainingMs() * 0.05));
    const query: ShardSearch = {
      type: "search",
      k: Math.max(topK, config.candidates),
      vector: req.vector,
      text: req.text !== undefined && req.text.trim() !== "" ? req.text : undefined,
      filter: req.filter,
    };
    const first = turn++;
    const answers = await Promise.all(Array.from({ length: spec.shards }, (_, shard) => askShard(call, spec, shard, first + shard, query, shardDeadline)));
    const missingShards = answers.flatMap((a, shard) => (a === undefined ? [shardName(spec.name, shard)] : []));
    const applied = answers.flatMap((a, shard) => (a === undefined ? [] : [{ index: spec.name, shard, lastSeq: a.lastSeq }]));
    const results = answers.filter((a): a is ReplicaResults => a !== undefined);
    if (missingShards.length > 0) call.log.warn({ missingShards }, "partial answer");
    const span = stage("fuse", { "colmena.fuse.lists": results.length * 2, "colmena.fuse.partial": missingShards.length > 0 });
    const hits = fuse(results, { topK, k: config.rrfK, weights: config.weights });
    span.set({ "colmena.fuse.hits": hits.length });
    span.end();
    return { hits, partial: missingShards.length > 0, missingShards, applied };
  };

  /**
   * One replica after another (starting at `first`), until one answers or the
   * deadline leaves no time; undefined if none did. A replica whose owner is
   * lost fails at once while another is left to try; the last one waits for
   * its key to come back on a survivor, within the deadline.
   */
  const askShard = async (call: CallContext, spec: IndexSpec, shard: number, first: number, query: ShardSearch, deadline: number): Promise<ReplicaResults | undefined> => {
    let behind: ReplicaResults | undefined;
    for (let i = 0; i < spec.replicas; i++) {
      if (deadline <= call.clock.now()) return behind;
      const key = shardKey(spec.name, shard, (first + i) % spec.replicas);
      try {
        const results = unpackResults(await call.refs.ref(ShardKind, key).ask(query, { deadline, ownerLost: i < spec.replicas - 1 ? "fail" : "wait" }));
        if (!results.catchingUp) return results;
        // A replica still replaying its log may lack writes: another one may hold them, and this answer is kept in case none does.
        behind ??= results;
      } catch (err) {
        ctx.log.debug({ key, code: isColmenaError(err) ? err.code : "INTERNAL", err: (err as Error).message }, "shard replica did not answer");
        if (isColmenaError(err, "TIMEOUT")) return behind;
      }
    }
    return behind;
  };

  return {
    query: async (m: { question: string; topK?: number | undefined; filter?: Metadata | undefined; index?: string | undefined }, call: CallContext): Promise<QueryAnswer> => {
      const spec = findIndex(config.indexes, m.index);
      const embedded = await call.refs.pool(EmbedderKind).ask({ type: "embed", texts: [m.question] });
      if (embedded.dimension !== spec.dimension) {
        // A deployment mismatch, not a bug in this request (INTERNAL would count as a crash of the coordinator).
        throw new ColmenaError("UNAVAILABLE", `embedder ${embedded.model} gives ${embedded.dimension}-d vectors; index ${spec.name} holds ${spec.dimension}-d`, { retryable: false });
      }
      return scatter({ vector: embedded.vectors[0]!, text: m.question, topK: m.topK, filter: m.filter, index: spec.name }, call);
    },
    search: (m: SearchRequest, call: CallContext) => scatter(m, call),
  };
}
