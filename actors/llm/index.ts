/**
 * actors/llm: the text-generation backends behind the llm pool. Pure modules:
 * no NATS and no actor runtime; the pooled actor wraps an LlmBackend.
 */
export type { ChatMessage, FinishReason, GenerateEvent, GenerateRequest, LlmBackend, Role, Warn } from "./backend.js";
export { OnnxDecoderBackend } from "./onnx-decoder.js";
export type { OnnxDecoderOptions } from "./onnx-decoder.js";
export type { CacheMode } from "./decoder-step.js";
export type { Device } from "./onnx-session.js";
export type { KvLayout } from "./kv-layout.js";
export { ExtractiveBackend, NOT_FOUND_ANSWER, estimateTokens } from "./extractive.js";
export type { ExtractiveOptions } from "./extractive.js";
export { RAG_SYSTEM_PROMPT, parseRagPrompt, ragMessages, ragUserContent } from "./prompt.js";
export type { Passage, RagPrompt } from "./prompt.js";
