/**
 * The embedder contract: one interface, implemented by the built-in hash
 * embedder and by the ONNX sentence-transformers embedder. Implementations are
 * plain objects (no NATS, no actor runtime); the embedder actor wraps one.
 */

/** The embedding of one text. */
export interface EmbedResult {
  /** Unit-length vector of `dimension` floats. */
  vector: Float32Array;
  /** True when the text was longer than `maxTokens` and its tail was dropped. */
  truncated: boolean;
  /** Tokens the model saw for this text, after truncation (at most `maxTokens`). */
  tokens: number;
}

export interface Embedder {
  /** Model id for cache keys: equal ids give equal vectors for equal texts ("hash-384", "onnx:<name>"). */
  readonly id: string;
  readonly dimension: number;
  /** Longest input the model sees, in its own tokens; longer texts are truncated and flagged. */
  readonly maxTokens: number;
  /** Tokens of each text before truncation (may exceed maxTokens): the cost a batcher budgets. */
  countTokens(texts: string[]): number[];
  /** One result per text, in order. An empty or non-string text is INVALID. */
  embed(texts: string[]): Promise<EmbedResult[]>;
  /** Releases the model; later calls to embed fail with UNAVAILABLE. */
  close(): Promise<void>;
}
