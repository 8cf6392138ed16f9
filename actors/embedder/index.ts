/** The embedder folder's public surface: backends, batching, input checks and the pooled embedder actor. */
export type { EmbedResult, Embedder } from "./embedder.js";
export { HashEmbedder } from "./hash-embedder.js";
export type { HashEmbedderOptions } from "./hash-embedder.js";
export { OnnxEmbedder } from "./onnx-embedder.js";
export type { OnnxEmbedderOptions } from "./onnx-embedder.js";
export { Batcher } from "./batcher.js";
export type { BatcherOptions } from "./batcher.js";
export { validateBatch, validateText } from "./validate.js";
export { EMBEDDER_KIND, EmbedderConfigSchema, EmbedderKind, embedderActor } from "./embedder-actor.js";
export type { EmbedderConfig, EmbedderConfigInput, EmbedderModels, EmbedderStats, Embeddings } from "./embedder-actor.js";
export { EmbedderModelSchema, embedderModelBytes } from "./embedder-models.js";
export { readModelDir } from "./model-dir.js";
