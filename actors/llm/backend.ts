/**
 * The contract every llm backend implements: what the llm actor needs of one,
 * whichever it is, so the actor never asks which class it holds. Types only:
 * the onnx decoder, the openai engine client and the extractive backend live
 * in their own files.
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

/** The circuit breaker's state in front of a remote engine. */
export type CircuitStatus = "closed" | "open" | "half-open" | "isolated";

export interface BackendHealth {
  /** What it serves: an engine's model ids, or a local backend's own id. */
  models: string[];
  /** Whether the configured model is among them. */
  servesModel: boolean;
}

/**
 * A backend's sequence slots: the one count of the generations an instance
 * runs. The backend takes a slot for each generation and refuses one over
 * capacity with OVERLOADED; the actor reads it for status and for its
 * statechart's ready ⇄ busy.
 */
export interface Slots {
  /** Sequences it runs at once. */
  readonly capacity: number;
  /** Sequences running now. */
  readonly inFlight: number;
  /** Calls `listener` after every change of inFlight; returns what stops it. */
  watch(listener: () => void): () => void;
}

/** A loaded backend: its factory loads it (a model on its device, or a client of its engine). */
export interface LlmBackend {
  readonly id: string;
  /** The device actually in use: "cpu" or "cuda:N" (a label for a remote engine). */
  readonly device: string;
  /** True when a GPU was asked for and the backend runs on the CPU instead. */
  readonly fellBackToCpu: boolean;
  readonly slots: Slots;
  /** The circuit in front of a remote engine; undefined for a local backend, which has none. */
  readonly circuit: CircuitStatus | undefined;
  /** Readies it for the first request: a local model runs one token (kernels, caches); an engine keeps its model warm itself. */
  warmUp(): Promise<void>;
  /** What it serves now; UNAVAILABLE when it cannot serve. */
  health(): Promise<BackendHealth>;
  /**
   * Streams token events and ends with exactly one "done" event. The signal is
   * checked at every token step; an aborted signal ends the stream with reason
   * "cancelled" within one step. An invalid request throws INVALID; one over
   * the slots' capacity, OVERLOADED. A generation holds a slot until its
   * stream ends or is left.
   */
  generate(req: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateEvent>;
  countTokens(text: string): number;
  close(): Promise<void>;
}

/** Structured logging hook, injected so the backends know nothing of the logger. */
export type Warn = (msg: string, fields: Record<string, unknown>) => void;
