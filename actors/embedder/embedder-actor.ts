/**
 * The pooled embedder actor: one Embedder behind one Batcher per instance.
 * Many `embed` messages are in flight at once (the kind's concurrency is at
 * least the batch size), each text of each message is submitted to the
 * batcher on its own, and the batcher runs texts that arrive close together
 * as one inference. Every message is answered with its own texts' vectors.
 */
import { z } from "zod";
import { ModelRegistry, type ModelInfo, type ModelSpec } from "../inference/index.js";
import { actorAddress, hostActor, stage, type ActorContext, type CallContext } from "../../runtime/index.js";
import { addModelRegistry, embedderBatchSize, embedderInference } from "../metrics.js";
import { Batcher } from "./batcher.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { embedderModelBytes, embedderModelFields, EmbedderModelSchema, loadEmbedder } from "./embedder-models.js";
import { validateBatch } from "./validate.js";

const positive = z.number().int().positive();

/** The embedder kind's settings, validated once when the kind is made. */
export const EmbedderConfigSchema = z
  .strictObject({
    /** The default model: what retrieval and ingest embed with, and what an `embed` without `model` gets. */
    ...embedderModelFields,
    /** More models this instance serves, each loaded on its first use (selected by `model` in `embed`). */
    models: z.array(EmbedderModelSchema).default([]),
    /**
     * Most bytes of models loaded at once per instance (each model counted as its `memoryBytes`, else its
     * model file's size); a model that would pass it first unloads the least recently used idle ones.
     * Default: no limit, nothing is unloaded.
     */
    memoryBudgetBytes: positive.optional(),
    intraOpNumThreads: positive.optional(),
    interOpNumThreads: positive.optional(),
    /** onnx: where inference runs; "worker" (the default) keeps it off the node's event loop. */
    inferenceThread: z.enum(["worker", "main"]).default("worker"),
    batching: z
      .strictObject({
        /**
         * Texts per inference; 1 turns dynamic batching off. Default 32 for onnx, where one inference of many
         * texts costs far less than many of one; 1 for hash, whose vectors cost the same alone as in a batch,
         * so a text waiting `maxWaitMs` for company would only add that wait to every question.
         */
        maxBatch: positive.optional(),
        /** How long the first text of a batch waits for company. */
        maxWaitMs: z.number().min(0).default(2),
        /** Padded-token budget per inference (texts × longest); absent: no budget. */
        maxTokens: positive.optional(),
        /** Inferences run at once per instance. */
        concurrency: positive.default(1),
      })
      .prefault({}),
    /** Texts one `embed` message may carry. */
    maxTextsPerRequest: positive.default(256),
    /** Messages in flight per instance; at least `batching.maxBatch` so the batcher has company to group. */
    concurrency: positive.optional(),
    mailboxCapacity: positive.default(1024),
    /** Instances per node; one instance per node makes the largest batches. */
    instances: positive.default(1),
  })
  .refine((c) => c.backend !== "onnx" || c.modelDir !== undefined, { message: "modelDir is required when backend is onnx", path: ["modelDir"] })
  .refine((c) => c.backend !== "onnx" || c.dimension === undefined, { message: "dimension is read from the ONNX model; leave it out", path: ["dimension"] })
  .refine((c) => new Set(c.models.map((m) => m.id)).size === c.models.length, { message: "two models have the same id", path: ["models"] })
  .transform((c) => ({ ...c, batching: { ...c.batching, maxBatch: c.batching.maxBatch ?? (c.backend === "hash" ? 1 : 32) } }))
  .refine((c) => c.concurrency === undefined || c.concurrency >= c.batching.maxBatch, {
    message: "concurrency must be at least batching.maxBatch, or batches can never fill",
    path: ["concurrency"],
  });

export type EmbedderConfig = z.infer<typeof EmbedderConfigSchema>;
export type EmbedderConfigInput = z.input<typeof EmbedderConfigSchema>;

/** What `embed` answers. */
export interface Embeddings {
  /** One unit-length vector per text, in order. */
  vectors: Float32Array[];
  /** Per text: its tail was cut off at the model's window. */
  truncated: boolean[];
  /** The model id (equal ids give equal vectors for equal texts). */
  model: string;
  dimension: number;
}

export interface EmbedderStats {
  /** The default model's. */
  model: string;
  dimension: number;
  maxTokens: number;
  /** Over every model. */
  requests: number;
  texts: number;
  /** Inferences run, and the texts they held: texts / batches is the mean batch size. */
  batches: number;
  batchedTexts: number;
  largestBatch: number;
  /** Texts waiting in the default model's batcher. */
  pending: number;
  /** Every model this instance serves, loaded or not. */
  models: ModelInfo[];
}

/** What `models` answers: the models one instance serves and whether each is loaded there. */
export interface EmbedderModels {
  /** The default model's id: what `embed` without `model` uses. */
  default: string;
  memoryBudgetBytes?: number;
  models: ModelInfo[];
}

export const EMBEDDER_KIND = "embedder";

const messages = {
  /** `model`: one of the ids `models` lists; absent, the default. */
  embed: z.object({ texts: z.array(z.string()), model: z.string().min(1).optional() }),
  stats: z.object({}),
  models: z.object({}),
};

type EmbedderBehavior = Awaited<ReturnType<typeof createEmbedder>>;

/** The address of the embedder pool, for `refs.pool(EmbedderKind)`: any node's embedderActor(config) answers it. */
export const EmbedderKind = actorAddress<typeof messages, EmbedderBehavior>({ kind: EMBEDDER_KIND, placement: "pooled", messages });

/** How a node hosts the embedder pool with these settings; `embedderActor()` is the hash default. */
export function embedderActor(input: EmbedderConfigInput = {}) {
  const config = EmbedderConfigSchema.parse(input);
  return hostActor(EmbedderKind, {
    concurrency: config.concurrency ?? Math.max(64, 2 * config.batching.maxBatch),
    mailbox: { capacity: config.mailboxCapacity },
    instances: config.instances,
    create: (ctx: ActorContext) => createEmbedder(ctx, config),
    calls: [],
  });
}

/** One loaded model and the batcher in front of it. */
interface Served {
  id: string;
  embedder: Embedder;
  batcher: Batcher<string, EmbedResult>;
}

async function createEmbedder(ctx: ActorContext, config: EmbedderConfig) {
  const counters = { requests: 0, texts: 0, batches: 0, batchedTexts: 0, largestBatch: 0 };
  const budget = config.batching.maxTokens;
  const serve = (id: string, embedder: Embedder): Served => ({
    id,
    embedder,
    batcher: new Batcher<string, EmbedResult>({
      maxBatch: config.batching.maxBatch,
      maxWaitMs: config.batching.maxWaitMs,
      concurrency: config.batching.concurrency,
      clock: ctx.clock,
      ...(budget !== undefined && { maxTokens: budget, cost: (text: string) => embedder.countTokens([text])[0]! }),
      run: (texts) => {
        counters.batches++;
        counters.batchedTexts += texts.length;
        counters.largestBatch = Math.max(counters.largestBatch, texts.length);
        embedderBatchSize.observe(texts.length);
        const end = embedderInference.startTimer();
        // Under the span of the message whose arrival started the batch; the batch serves others too.
        const span = stage("embed", { "colmena.embed.batch_size": texts.length, "colmena.embed.model": id });
        return Promise.resolve(embedder.embed(texts)).then(
          (r) => {
            end();
            span.end();
            return r;
          },
          (err: unknown) => {
            end();
            span.end(err);
            throw err;
          },
        );
      },
    }),
  });
  // The default model loads at start: a mistake in it fails the instance at once, and its id (known only once loaded) names it.
  const loaded = await loadEmbedder(config, config);
  const first = serve(loaded.id, loaded);
  const spec = async (id: string, model: EmbedderConfig | EmbedderConfig["models"][number], preloaded?: Served): Promise<ModelSpec<Served>> => ({
    id,
    bytes: await embedderModelBytes(model),
    load: async () => {
      const served = serve(id, await loadEmbedder(model, config));
      ctx.log.info({ model: id }, "embedder model loaded");
      return served;
    },
    unload: async (s) => {
      await s.embedder.close();
      ctx.log.info({ model: id }, "embedder model unloaded");
    },
    ...(preloaded !== undefined && { preloaded }),
  });
  const registry = new ModelRegistry<Served>({
    models: [await spec(first.id, config, first), ...(await Promise.all(config.models.map((m) => spec(m.id, m))))],
    ...(config.memoryBudgetBytes !== undefined && { budgetBytes: config.memoryBudgetBytes }),
    onUnloadError: (model, err) => ctx.log.warn({ model, err }, "unloading an embedder model failed"),
  });
  const unlist = addModelRegistry(EMBEDDER_KIND, registry);
  ctx.log.info({ model: first.id, dimension: first.embedder.dimension, maxBatch: config.batching.maxBatch, models: registry.ids }, "embedder ready");
  return {
    embed: async (m: { texts: string[]; model?: string | undefined }, call: CallContext): Promise<Embeddings> => {
      validateBatch(m.texts, config.maxTextsPerRequest);
      counters.requests++;
      counters.texts += m.texts.length;
      return registry.use(
        m.model ?? first.id,
        async ({ id, embedder, batcher }) => {
          const results = await Promise.all(m.texts.map((text) => batcher.submit(text)));
          return { vectors: results.map((r) => r.vector), truncated: results.map((r) => r.truncated), model: id, dimension: embedder.dimension };
        },
        call.signal,
      );
    },
    stats: (): EmbedderStats => ({
      model: first.id,
      dimension: first.embedder.dimension,
      maxTokens: first.embedder.maxTokens,
      pending: first.batcher.pending,
      ...counters,
      models: registry.list(),
    }),
    models: (): EmbedderModels => ({ default: first.id, ...(config.memoryBudgetBytes !== undefined && { memoryBudgetBytes: config.memoryBudgetBytes }), models: registry.list() }),
    onStop: async () => {
      unlist();
      await registry.close();
    },
  };
}
