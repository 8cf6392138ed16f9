/**
 * The contract every llm backend implements. Types only: the onnx decoder and
 * the extractive backend live in their own files.
 */

export type Role = "system" | "user" | "assistant";

export interface ChatMessage {
  role: Role;
  content: string;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /** At least 1. Generation ends with reason "length" after this many tokens. */
  maxNewTokens: number;
  /** 0 or absent: greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or absent: no limit. */
  topK?: number;
  /** Nucleus sampling mass in (0, 1]; absent: 1. */
  topP?: number;
  /** The same seed and request give the same tokens. */
  seed?: number;
  /** Generation ends with reason "stop" before the first occurrence of any of these. */
  stop?: string[];
}

export type FinishReason = "stop" | "length" | "cancelled";

export type GenerateEvent =
  | { type: "token"; text: string }
  | { type: "done"; reason: FinishReason; promptTokens: number; completionTokens: number };

export interface LlmBackend {
  readonly id: string;
  /** The device actually in use: "cpu" or "cuda:N". */
  readonly device: string;
  /** True when a GPU was asked for and the backend runs on the CPU instead. */
  readonly fellBackToCpu: boolean;
  /**
   * Streams token events and ends with exactly one "done" event. The signal is
   * checked at every token step; an aborted signal ends the stream with reason
   * "cancelled" within one step. An invalid request throws INVALID.
   */
  generate(req: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateEvent>;
  countTokens(text: string): number;
  close(): Promise<void>;
}

/** Structured logging hook, injected so the backends know nothing of the logger. */
export type Warn = (msg: string, fields: Record<string, unknown>) => void;
