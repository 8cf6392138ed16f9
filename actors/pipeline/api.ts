import type { CallScope } from "../../runtime/index.js";

/**
 * What the edge (HTTP bridge, NATS service API, CLI) asks of the RAG system.
 * One implementation sits on the actor system (pipeline.ts); the edge knows
 * only this contract.
 */

export type MetadataValue = string | number | boolean;
export type Filter = Record<string, MetadataValue>;

export interface QueryRequest {
  question: string;
  sessionId?: string;
  /** Earlier turns the client holds itself (OpenAI-style clients resend them); used when the session has none. */
  history?: ChatMessage[];
  topK?: number;
  filter?: Filter;
  /** The most tokens the answer may have; the llm pool clamps it to its own limit (llm.limits.maxNewTokens). */
  maxTokens?: number;
  /** How the llm samples the answer (backends that cannot sample, like the extractive one, honour only `stop`). */
  sampling?: Sampling;
  /** The llm model that answers: one of `models().llms`; absent, the default. */
  model?: string;
}

export interface Sampling {
  /** 0: greedy. */
  temperature?: number;
  topP?: number;
  /** The same seed and request give the same answer. */
  seed?: number;
  /** The answer ends before the first of these. */
  stop?: string[];
}

/** Tokens of the prompt the LLM read and of the answer it wrote (a cached answer reports those of the generation it came from). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * One retrieved document. `score` is its relevance relative to the first
 * source: 1 for the best document, and for each other its fused retrieval
 * score divided by the best one's (so 0.5 means half as strong a match).
 * It compares sources of one answer, not answers.
 */
export interface Source {
  docId: string;
  /** The document's best-matching chunk (the one `ordinal`, `heading` and `snippet` come from). */
  chunkId: string;
  ordinal?: number;
  score: number;
  /** 1-based position among the sources; citation [n] in the answer is source n. */
  rank: number;
  /** The document's title (front matter or first heading), else its path. */
  title: string;
  /** The document's path (`metadata.source`), else its id. */
  path: string;
  /** The heading path of the best chunk's section ("Guide > Install"). */
  heading?: string;
  /** A short excerpt of the best chunk around the question's words, without markup. */
  snippet: string;
  /** The best chunk's text (the answer's passage adds the document's next-best chunk). */
  text: string;
  metadata: Record<string, MetadataValue>;
}

export interface QueryResult {
  answer: string;
  sources: Source[];
  sessionId: string;
  cached: boolean;
  /** Some shards missed the deadline; the answer comes from the others. */
  partial: boolean;
  missingShards: string[];
  /** No LLM could take the request; the extractive backend answered. */
  degraded: boolean;
  /** Milliseconds per stage: session, cache, retrieval, generation, total. */
  timings: Record<string, number>;
  usage: Usage;
  /** The answer stopped at its token limit (maxTokens or the llm pool's). */
  truncated: boolean;
}

/** A streamed answer: meta first, tokens as they come, then sources, then done. */
export type QueryEvent =
  | { type: "meta"; sessionId: string; cached: boolean; partial: boolean; missingShards: string[]; degraded: boolean }
  | { type: "token"; text: string }
  | { type: "sources"; sources: Source[] }
  | { type: "done"; timings: Record<string, number>; usage: Usage; truncated: boolean };

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A document as a client sends it: the system makes an id where it has none. */
export interface DocumentUpload {
  id?: string;
  text: string;
  metadata?: Record<string, MetadataValue>;
}

export interface DocumentInfo {
  id: string;
  chunks: number;
  metadata: Record<string, MetadataValue>;
}

/** What a deployment serves. */
export interface ServedModels {
  /** The default embedder (what retrieval embeds with) and the default llm (what answers a question without `model`). */
  embedder: string;
  llm: string;
  /** Every model of each kind, the default first. */
  embedders: string[];
  llms: string[];
}

export interface ModelState {
  id: string;
  kind: "embedder" | "llm";
  /** Loaded in the instance that answered (each instance loads on its own first use). */
  loaded: boolean;
}

export interface ReadyReport {
  ready: boolean;
  /** Each dependency: NATS, JetStream, every required pool, each index's shard replicas, the llm. */
  checks: Record<string, boolean>;
  /** What keeps the node from being ready, one line per failed check. */
  missing: string[];
  /** Failed checks the node serves through anyway (an llm that is down degrades answers to extractive), one line each. */
  degraded: string[];
}

/** Ingest progress, from the streams (cluster-wide, kept across restarts). */
export interface IngestStatus {
  /** Entries (documents and deletions) ever stored in the ingest stream. */
  stored: number;
  /** Stored and not yet indexed. */
  pending: number;
  /** Written to the shard write log. */
  indexed: number;
  /** Given up (malformed, or failed every attempt). */
  errors: number;
  lastErrors: { docId: string; code: string; message: string }[];
  /** Nothing pending and every replica has applied its log: every document stored so far answers questions. */
  searchable: boolean;
  /** Replicas still applying their write log. */
  behind: string[];
}

/**
 * Every call that reaches actors runs in the edge request's scope: its
 * deadline, trace and signal travel with every hop behind it.
 */
export interface RagApi {
  query(req: QueryRequest, scope: CallScope): Promise<QueryResult>;
  /** The same as query, streamed; aborting the scope's signal (client gone) stops generation. */
  queryStream(req: QueryRequest, scope: CallScope): AsyncIterable<QueryEvent>;
  /** Stored durably before it resolves; returns the ids (generated where missing). */
  ingest(documents: DocumentUpload[], scope: CallScope): Promise<{ ids: string[] }>;
  getDocument(id: string, scope: CallScope): Promise<DocumentInfo | undefined>;
  /** True when the document existed. */
  deleteDocument(id: string, scope: CallScope): Promise<boolean>;
  /** With the default embedder, or the one `model` names (one of `models().embedders`). */
  embed(texts: string[], scope: CallScope, model?: string): Promise<{ model: string; dimension: number; vectors: Float32Array[] }>;
  /** The models configured, from the config: no call. */
  models(): ServedModels;
  /** Each configured model and whether it is loaded, as one instance of each pool answers (a pool that does not answer: none loaded). */
  modelStates(scope: CallScope): Promise<ModelState[]>;
  ready(): Promise<ReadyReport>;
  ingestProgress(): Promise<IngestStatus>;
  /** Figures for /metrics and `colmena status`: actor states, mailbox depths, cache hit rates. */
  status(): Promise<Record<string, unknown>>;
}
