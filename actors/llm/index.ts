/**
 * actors/llm: the llm pool (the pooled, device-pinned `llmKind`) and the
 * text-generation backends it wraps (pure modules: no NATS, no runtime).
 */
export type { BackendHealth, ChatMessage, CircuitStatus, FinishReason, GenerateEvent, GenerateRequest, LlmBackend, Role, Slots, Warn } from "./backend.js";
export { SequenceSlots } from "./slots.js";
export { OnnxDecoderBackend } from "./onnx-decoder.js";
export { readModelFiles } from "./model-files.js";
export type { OnnxDecoderOptions } from "./onnx-decoder.js";
export type { CacheMode } from "./decoder-step.js";
export type { Device } from "./onnx-session.js";
export type { KvLayout } from "./kv-layout.js";
export { ExtractiveBackend, NOT_FOUND_ANSWER, estimateTokens } from "./extractive.js";
export { questionTerms, terms } from "./relevance.js";
export type { ExtractiveOptions } from "./extractive.js";
export { RAG_SYSTEM_PROMPT, parseRagPrompt, ragMessages, ragUserContent } from "./prompt.js";
export type { Passage, RagPrompt } from "./prompt.js";
export { OpenAiBackend } from "./openai-backend.js";
export type { OpenAiBackendOptions } from "./openai-backend.js";
export { fitPrompt, MESSAGE_OVERHEAD_TOKENS } from "./prompt-budget.js";
export type { FittedPrompt } from "./prompt-budget.js";
export {
  ExtractiveBackendConfigSchema,
  LlmConfigSchema,
  LlmLimitsSchema,
  OnnxBackendConfigSchema,
  OpenAiBackendConfigSchema,
  instanceDevices,
  llmModelBytes,
  llmModelId,
  LlmModelSchema,
  parseLlmConfig,
} from "./llm-config.js";
export type { LlmBackendConfig, LlmConfig, LlmConfigInput, LlmLimits, LlmModelConfig, OnnxBackendConfig, OpenAiBackendConfig } from "./llm-config.js";
export { llmInstanceMachine } from "./llm-machine.js";
export type { LlmInstanceEvent, LlmState } from "./llm-machine.js";
export { LlmMessages, defaultBackendFactory, llmKind } from "./llm-actor.js";
export type { BackendFactory, BackendSpec, LlmDoneEvent, LlmKind, LlmKindOptions, LlmModels, LlmStatus, LlmStreamEvent } from "./llm-actor.js";
