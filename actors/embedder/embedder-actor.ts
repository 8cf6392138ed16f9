/**
 * The pooled embedder actor: one Embedder behind one Batcher per instance.
 * Many `embed` messages are in flight at once (the kind's concurrency is at
 * least the batch size), each text of each message is submitted to the
 * batcher on its own, and the batcher runs texts that arrive close together
 * as one inference. Every message is answered with its own texts' vectors.
 */
import { z } from "zod";
import { actorAddress, hostActor, stage, type ActorContext } from "../../runtime/index.js";
import { embedderBatchSize, embedderInference } from "../metrics.js";
import { Batcher } from "./batcher.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { HashEmbedder } from "./hash-embedder.js";
import { OnnxEmbedder } from "./onnx-embedder.js";
import { validateBatch } from "./validate.js";

const positive = z.number().int().positive();

/** The embedder kind's settings, validated once when the kind is made. */
export const EmbedderConfigSchema = z
  .strictObject({
    /** `hash`: built in, download-free. `onnx`: a sentence-transformers export in `modelDir`. */
    backend: z.enum(["hash", "onnx"]).default("hash"),
    /** hash: vector length (default 384). onnx: read from the model. */
    dimension: positive.optional(),
    /** Longest input in the model's tokens (hash: words); longer texts are truncated and flagged. */
    maxTokens: positive.optional(),
    /** onnx: the export directory (model.onnx + tokenizer.json). */
    modelDir: z.string().min(1).optional(),
    /** onnx: model file inside modelDir (default model.onnx; e.g. model_quantized.onnx). */
    modelFile: z.string().min(1).optional(),
    /** onnx: the model name in the id "onnx:<name>" (default: the directory name). */
    name: z.string().min(1).optional(),
    intraOpNumThreads: positive.optional(),
    interOpNumThreads: positive.optional(),
    /** onnx: where inference runs; "worker" (the default) keeps it off the node's event loop. */
    inferenceThread: z.enum(["worker", "main"]).default("worker"),
    /** onnx: most padded tokens in one run; a batch is sorted by length and cut into runs under it. */
    maxPaddedTokens: positive.optional(),
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
  model: string;
  dimension: number;
  maxTokens: number;
  requests: number;
  texts: number;
  /** Inferences run, and the texts they held: texts / batches is the mean batch size. */
  batches: number;
  batchedTexts: number;
  largestBatch: number;
  pending: number;
}

export const EMBEDDER_KIND = "embedder";

const messages = {
  embed: z.object({ texts: z.array(z.string()) }),
  stats: z.object({}),
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

async function createEmbedder(ctx: ActorContext, config: EmbedderConfig) {
  const embedder = await loadEmbedder(config);
  const counters = { requests: 0, texts: 0, batches: 0, batchedTexts: 0, largestBatch: 0 };
  const budget = config.batching.maxTokens;
  const batcher = new Batcher<string, EmbedResult>({
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
      const span = stage("embed", { "colmena.embed.batch_size": texts.length, "colmena.embed.model": embedder.id });
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
  });
  ctx.log.info({ model: embedder.id, dimension: embedder.dimension, maxBatch: config.batching.maxBatch }, "embedder ready");
  return {
    embed: async (m: { texts: string[] }): Promise<Embeddings> => {
      validateBatch(m.texts, config.maxTextsPerRequest);
      counters.requests++;
      counters.texts += m.texts.length;
      const results = await Promise.all(m.texts.map((text) => batcher.submit(text)));
      return {
        vectors: results.map((r) => r.vector),
        truncated: results.map((r) => r.truncated),
        model: embedder.id,
        dimension: embedder.dimension,
      };
    },
    stats: (): EmbedderStats => ({ model: embedder.id, dimension: embedder.dimension, maxTokens: embedder.maxTokens, pending: batcher.pending, ...counters }),
    onStop: () => embedder.close(),
  };
}

function loadEmbedder(config: EmbedderConfig): Promise<Embedder> | Embedder {
  if (config.backend === "hash") {
    return new HashEmbedder({
      ...(config.dimension !== undefined && { dimension: config.dimension }),
      ...(config.maxTokens !== undefined && { maxTokens: config.maxTokens }),
    });
  }
  return OnnxEmbedder.load(config.modelDir!, {
    ...(config.modelFile !== undefined && { modelFile: config.modelFile }),
    ...(config.name !== undefined && { name: config.name }),
    ...(config.maxTokens !== undefined && { maxTokens: config.maxTokens }),
    ...(config.intraOpNumThreads !== undefined && { intraOpNumThreads: config.intraOpNumThreads }),
    ...(config.interOpNumThreads !== undefined && { interOpNumThreads: config.interOpNumThreads }),
    ...(config.maxPaddedTokens !== undefined && { maxPaddedTokens: config.maxPaddedTokens }),
    thread: config.inferenceThread,
  });
}
