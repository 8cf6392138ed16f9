/**
 * The query coordinator (pooled): embeds the question through the embedder
 * pool, asks one replica of every shard in parallel under the caller's
 * deadline, and fuses the vector and BM25 lists by reciprocal-rank fusion.
 * A shard that errors on every replica it could try, or misses the deadline,
 * is left out and named: the answer is then `partial`.
 */
import { z } from "zod";
import { ColmenaError, defineActor, isColmenaError, type ActorContext, type CallContext } from "../../runtime/index.js";
import { systemClock, type Clock } from "../../supervisors/index.js";
import { EmbedderKind } from "../embedder/embedder-actor.js";
import { findIndex, IndexListSchema, shardKey, shardName, type IndexSpec } from "../index-shard/index-spec.js";
import { ShardKind } from "../index-shard/shard-actor.js";
import type { Metadata, ShardResults } from "../index-shard/types.js";
import { FilterSchema, VectorSchema } from "../index-shard/wire-schemas.js";
import { DEFAULT_RRF_K, fuse, type FusedHit } from "./fusion.js";

const positive = z.number().int().positive();

export const CoordinatorConfigSchema = z.strictObject({
  indexes: IndexListSchema,
  /** Hits asked of each shard per list: max(topK, this). More candidates give RRF more overlap to work with. */
  candidates: positive.max(1_000).default(20),
  /** RRF damping constant. */
  rrfK: z.number().min(0).default(DEFAULT_RRF_K),
  /** Time kept back from the caller's deadline to fuse and answer: max(this, 5% of the budget). */
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

/** `clock`: the runtime's, which call deadlines are read on (default systemClock). */
export function coordinatorActor(config: CoordinatorConfigInput = {}, options: { clock?: Clock } = {}) {
  return define(CoordinatorConfigSchema.parse(config), options.clock ?? systemClock);
}

function define(config: CoordinatorConfig | undefined, clock: Clock) {
  return defineActor({
    kind: COORDINATOR_KIND,
    placement: "pooled",
    messages,
    concurrency: config?.concurrency ?? 64,
    mailbox: { capacity: 1024 },
    instances: config?.instances ?? 1,
    create: (ctx: ActorContext) => {
      if (config === undefined) throw new ColmenaError("INVALID", "CoordinatorKind is an address: host coordinatorActor(config)");
      return createCoordinator(ctx, config, clock);
    },
  });
}

/** The address of the coordinator pool. Hosting it directly is refused. */
export const CoordinatorKind = define(undefined, systemClock);

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

function createCoordinator(ctx: ActorContext, config: CoordinatorConfig, clock: Clock) {
  let turn = 0;
  /** The caller's deadline; a tell (no deadline) gets the default ask budget. */
  const deadlineOf = (call: CallContext) => (Number.isFinite(call.deadline) ? call.deadline : clock.now() + 10_000);

  const scatter = async (req: SearchRequest, call: CallContext): Promise<QueryAnswer> => {
    const spec = findIndex(config.indexes, req.index);
    if (req.vector === undefined && (req.text === undefined || req.text.trim() === "")) throw new ColmenaError("INVALID", "a search needs a vector, a text or both");
    if (req.vector !== undefined && req.vector.length !== spec.dimension) {
      throw new ColmenaError("INVALID", `vector has dimension ${req.vector.length}; index ${spec.name} holds ${spec.dimension}-d vectors`);
    }
    // Same-node senders skip the schema, and with it its defaults.
    const topK = req.topK ?? DEFAULT_TOP_K;
    const deadline = deadlineOf(call);
    // Shards must answer early enough to leave time to fuse and reply.
    const shardDeadline = deadline - Math.max(config.replyMarginMs, Math.floor((deadline - clock.now()) * 0.05));
    const query: ShardSearch = {
      type: "search",
      k: Math.max(topK, config.candidates),
      vector: req.vector,
      text: req.text !== undefined && req.text.trim() !== "" ? req.text : undefined,
      filter: req.filter,
    };
    const first = turn++;
    const answers = await Promise.all(Array.from({ length: spec.shards }, (_, shard) => askShard(spec, shard, first + shard, query, shardDeadline)));
    const missingShards = answers.flatMap((a, shard) => (a === undefined ? [shardName(spec.name, shard)] : []));
    const results = answers.filter((a): a is ShardResults => a !== undefined);
    if (missingShards.length > 0) call.log.warn({ missingShards }, "partial answer");
    return { hits: fuse(results, { topK, k: config.rrfK }), partial: missingShards.length > 0, missingShards };
  };

  /** One replica after another (starting at `first`), until one answers or the deadline leaves no time; undefined if none did. */
  const askShard = async (spec: IndexSpec, shard: number, first: number, query: ShardSearch, deadline: number): Promise<ShardResults | undefined> => {
    for (let i = 0; i < spec.replicas; i++) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) return undefined;
      const key = shardKey(spec.name, shard, (first + i) % spec.replicas);
      try {
        return await ctx.actors.ref(ShardKind, key).ask(query, { timeoutMs: remaining });
      } catch (err) {
        ctx.log.debug({ key, code: isColmenaError(err) ? err.code : "INTERNAL", err: (err as Error).message }, "shard replica did not answer");
        if (isColmenaError(err, "TIMEOUT")) return undefined;
      }
    }
    return undefined;
  };

  return {
    query: async (m: { question: string; topK?: number | undefined; filter?: Metadata | undefined; index?: string | undefined }, call: CallContext): Promise<QueryAnswer> => {
      const spec = findIndex(config.indexes, m.index);
      const embedded = await ctx.actors.pool(EmbedderKind).ask({ type: "embed", texts: [m.question] }, { timeoutMs: Math.max(1, deadlineOf(call) - clock.now()) });
      if (embedded.dimension !== spec.dimension) {
        // A deployment mismatch, not a bug in this request (INTERNAL would count as a crash of the coordinator).
        throw new ColmenaError("UNAVAILABLE", `embedder ${embedded.model} gives ${embedded.dimension}-d vectors; index ${spec.name} holds ${spec.dimension}-d`, { retryable: false });
      }
      return scatter({ vector: embedded.vectors[0]!, text: m.question, topK: m.topK, filter: m.filter, index: spec.name }, call);
    },
    search: (m: SearchRequest, call: CallContext) => scatter(m, call),
  };
}
