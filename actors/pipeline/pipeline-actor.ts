/**
 * The pipeline actor (pooled): runs the path of a question (pipeline.ts) on
 * a node with the `session` role, next to the actors it asks, with its own
 * answer cache and index version. The HTTP bridge and the NATS service API
 * send it one message per question and get the answer back (`answer`) or
 * its events (`stream`): the edge's thread does HTTP and admission only, so
 * a refusal under overload never waits behind a question's bookkeeping.
 */
import { z } from "zod";
import { actorAddress, hostActor, type ActorContext, type CallContext, type Refs } from "../../runtime/index.js";
import { AnswerCache, CACHE_BUCKETS, readFaq, type CacheConfigInput } from "../cache/index.js";
import { EmbedderKind } from "../embedder/index.js";
import { FilterSchema } from "../index-shard/wire-schemas.js";
import { SHARD_LOG } from "../index-shard/write-log.js";
import { CoordinatorKind } from "../query/index.js";
import type { LlmKind } from "../llm/index.js";
import { SessionIdSchema, type SessionKind, type SessionSettings } from "../session/index.js";
import type { QueryRequest } from "./api.js";
import { FaqRefresh } from "./faq-refresh.js";
import { followIndexVersion } from "./index-version.js";
import { RagPipeline } from "./pipeline.js";

const positive = z.number().int().positive();

export const PipelineConfigSchema = z.strictObject({
  topK: positive.max(100).default(5),
  maxNewTokens: positive.default(256),
  /** Frequent questions (one per line, or a JSON array) answered at start so the first users hit the cache. */
  faqFile: z.string().optional(),
  /** Questions one pipeline instance works on at once; each mostly waits on other actors. */
  concurrency: positive.max(10_000).default(256),
  /** /ready stays 200 while no llm can answer (answers degrade to extractive), listing it under `degraded`; false: 503. */
  readyWhenDegraded: z.boolean().default(true),
  /** Pipeline instances per node with the session role (each has its own L1 cache). */
  instances: positive.max(64).default(1),
});

export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;

export const PIPELINE_KIND = "pipeline";

const question = {
  question: z.string().refine((q) => q.trim().length > 0, "question is empty"),
  sessionId: SessionIdSchema.optional(),
  history: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })).optional(),
  topK: positive.max(1_000).optional(),
  filter: FilterSchema.optional(),
  maxTokens: positive.optional(),
  sampling: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional(),
      topP: z.number().gt(0).max(1).optional(),
      seed: z.int().optional(),
      stop: z.array(z.string().min(1)).max(4).optional(),
    })
    .optional(),
  /** The llm model that answers (one of those the llm pool's `models` lists); absent: its default. */
  model: z.string().min(1).optional(),
};

const messages = {
  /** The whole answer in one reply. */
  answer: z.object(question),
  /** The answer as QueryEvents: meta, tokens, sources, done. */
  stream: z.object(question),
  /** This instance's answer-cache figures (hits and misses per level). */
  stats: z.object({}),
  /** The llm pool's state, as one of its instances answers: the bridge reaches the llm only through the pipeline (its NATS permissions). */
  llmStatus: z.object({}),
  /** The models the llm pool serves and whether each is loaded, as one of its instances answers: for /v1/models. */
  llmModels: z.object({}),
};

export interface PipelineActorParts {
  config: PipelineConfig;
  /** The answer cache's configuration, its L3 directory resolved. */
  cache: CacheConfigInput;
  llm: LlmKind;
  /** The llm's model id, in cache keys. */
  llmModel: string;
  session: SessionKind;
  /** The settings a new session starts with. */
  sessionDefaults: SessionSettings;
}

type PipelineBehavior = Awaited<ReturnType<typeof createPipeline>>;

/** The address of the pipeline pool. */
export const PipelineKind = actorAddress<typeof messages, PipelineBehavior>({ kind: PIPELINE_KIND, placement: "pooled", messages });

/** How a node with the session role hosts the pipeline pool. */
export function pipelineActor(parts: PipelineActorParts) {
  return hostActor(PipelineKind, {
    concurrency: parts.config.concurrency,
    mailbox: { capacity: 1024 },
    instances: parts.config.instances,
    // A bug met by one question fails that question; the instance keeps its cache and its index watch.
    decider: () => "resume",
    create: (ctx: ActorContext) => createPipeline(ctx, parts),
    // The answer cache's L2 buckets, and the write log whose head is the index version.
    stores: { logs: [SHARD_LOG.name], buckets: CACHE_BUCKETS },
    calls: [EmbedderKind.kind, CoordinatorKind.kind, parts.llm.kind, parts.session.kind],
  });
}

async function createPipeline(ctx: ActorContext, parts: PipelineActorParts) {
  const warn = (msg: string, fields: Record<string, unknown>) => ctx.log.warn(fields, msg);
  const cache = await AnswerCache.open({ ...parts.cache, storage: ctx.storage, clock: ctx.clock, warn });
  const version = await followIndexVersion(ctx.storage, ctx.log);
  const pipeline = new RagPipeline({
    cache,
    version,
    llm: parts.llm,
    session: parts.session,
    sessionDefaults: parts.sessionDefaults,
    models: retrying(async () => ({ embedder: await embedderModel(ctx.actors), llm: parts.llmModel })),
    defaults: parts.config,
    log: ctx.log,
  });
  const faq = new FaqRefresh(ctx, pipeline, version, parts.config.faqFile);
  return {
    onStart: () => void warm(ctx, cache, faq),
    onStop: async () => {
      faq.stop();
      await pipeline.settled();
      await Promise.all([version.stop(), cache.close()]);
    },
    answer: (m: QueryRequest, call: CallContext) => pipeline.query(m, call),
    stream: (m: QueryRequest, call: CallContext) => pipeline.queryStream(m, call),
    stats: () => cache.stats(),
    llmStatus: (_m: unknown, call: CallContext) => call.refs.pool(parts.llm).ask({ type: "status" }, { timeoutMs: call.remainingMs() }),
    llmModels: (_m: unknown, call: CallContext) => call.refs.pool(parts.llm).ask({ type: "models" }, { timeoutMs: call.remainingMs() }),
  };
}

/** The embedder's model id, which names the model in cache keys and /v1/models. */
export async function embedderModel(refs: Refs): Promise<string> {
  return (await refs.pool(EmbedderKind).ask({ type: "embed", texts: ["colmena"] })).model;
}

/** The value of `f`, asked once; asked again on the next call if it failed (an embedder not up yet). */
function retrying<T>(f: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () =>
    (value ??= f().catch((err: unknown) => {
      value = undefined;
      throw err;
    }));
}

/** Fills L1 from L2 and answers the FAQ, so the first users hit the cache. */
async function warm(ctx: ActorContext, cache: AnswerCache, faq: FaqRefresh): Promise<void> {
  try {
    const filled = await cache.fillL1FromL2();
    const answered = await faq.start();
    if (filled || answered) ctx.log.info({ l1FromL2: filled, faq: answered }, "cache warmed");
  } catch (err) {
    ctx.log.warn({ err }, "cache warming failed");
  }
}
