/**
 * The models one embedder instance serves: the default (the config's own
 * backend, which retrieval and ingest use) and any listed in `models`, each
 * selected by its id in an `embed` message's `model`. What one model needs
 * to load, and what it is estimated to cost while loaded.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Embedder } from "./embedder.js";
import { HashEmbedder } from "./hash-embedder.js";
import { OnnxEmbedder } from "./onnx-embedder.js";

const positive = z.number().int().positive();
const backend = z.enum(["hash", "onnx"]);

/** The settings that say which model a backend loads: the default's at the config's top level, an extra one's in its `models` entry. */
export const embedderModelFields = {
  /** `hash`: built in, download-free. `onnx`: a sentence-transformers export in `modelDir`. */
  backend: backend.default("hash"),
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
  /** onnx: most padded tokens in one run; a batch is sorted by length and cut into runs under it. */
  maxPaddedTokens: positive.optional(),
  /** What the model costs against `memoryBudgetBytes` while loaded; default: its model file's size (hash: 0). */
  memoryBytes: z.number().int().nonnegative().optional(),
};

/** One more model an instance serves, loaded on its first use. */
export const EmbedderModelSchema = z
  .strictObject({
    /** What an `embed` message (and `/v1/embeddings`' `model`) names it by; also the `model` its replies carry. */
    id: z.string().min(1),
    ...embedderModelFields,
    backend: backend.default("onnx"),
  })
  .refine((c) => c.backend !== "onnx" || c.modelDir !== undefined, { message: "modelDir is required when backend is onnx", path: ["modelDir"] })
  .refine((c) => c.backend !== "onnx" || c.dimension === undefined, { message: "dimension is read from the ONNX model; leave it out", path: ["dimension"] });

type ModelFields = z.output<z.ZodObject<typeof embedderModelFields>>;

/** How onnx sessions run, shared by every model of the instance. */
export interface SessionSettings {
  intraOpNumThreads?: number | undefined;
  interOpNumThreads?: number | undefined;
  inferenceThread: "worker" | "main";
}

export function loadEmbedder(model: ModelFields, session: SessionSettings): Promise<Embedder> | Embedder {
  if (model.backend === "hash") {
    return new HashEmbedder({
      ...(model.dimension !== undefined && { dimension: model.dimension }),
      ...(model.maxTokens !== undefined && { maxTokens: model.maxTokens }),
    });
  }
  return OnnxEmbedder.load(model.modelDir!, {
    ...(model.modelFile !== undefined && { modelFile: model.modelFile }),
    ...(model.name !== undefined && { name: model.name }),
    ...(model.maxTokens !== undefined && { maxTokens: model.maxTokens }),
    ...(session.intraOpNumThreads !== undefined && { intraOpNumThreads: session.intraOpNumThreads }),
    ...(session.interOpNumThreads !== undefined && { interOpNumThreads: session.interOpNumThreads }),
    ...(model.maxPaddedTokens !== undefined && { maxPaddedTokens: model.maxPaddedTokens }),
    thread: session.inferenceThread,
  });
}

/**
 * What a model is counted as against the memory budget: `memoryBytes` when
 * given, else the size of its model file (the weights dominate an encoder's
 * memory; onnxruntime's arena and the worker thread come on top, which is why
 * the budget is an estimate, not a limit the process is held to). A hash
 * embedder holds no weights: 0.
 */
export async function embedderModelBytes(model: ModelFields): Promise<number> {
  if (model.memoryBytes !== undefined) return model.memoryBytes;
  if (model.backend === "hash") return 0;
  const path = join(model.modelDir!, model.modelFile ?? "model.onnx");
  return (await stat(path)).size;
}
