import { setTimeout as sleep } from "node:timers/promises";
import type {
  DocumentInfo,
  DocumentUpload,
  MetadataValue,
  QueryEvent,
  QueryRequest,
  QueryResult,
  IngestStatus,
  ModelState,
  RagApi,
  ServedModels,
  ReadyReport,
  Source,
} from "../../actors/pipeline/api.js";
import { ColmenaError, type CallScope } from "../../runtime/index.js";

type Operation = "query" | "queryStream" | "ingest" | "getDocument" | "deleteDocument" | "embed" | "ready" | "ingestProgress" | "status";

/**
 * An in-memory RagApi for the edge's unit tests, keeping the contract:
 * documents are stored and found again; a question is answered from the
 * documents that share the most words with it, deterministically; a stream
 * sends meta, one token per word with a small async gap, sources, done;
 * the AbortSignal stops work (recorded in `aborted`) with CANCELLED; and
 * `failNext` makes the next call of an operation throw a given error.
 */
export class FakeRagApi implements RagApi {
  readonly documents = new Map<string, { text: string; metadata: Record<string, MetadataValue> }>();
  /** Every request as the api received it. */
  readonly requests: { op: Operation; req?: QueryRequest; scope?: CallScope }[] = [];
  /** Requests whose signal aborted while the api worked on them, with the abort reason. */
  readonly aborted: { op: Operation; reason: unknown }[] = [];
  /** Tokens a stream sends before it stalls until aborted (Infinity: never stalls). */
  stallStreamAfter = Infinity;
  /** A stream that throws `error` after sending `after` tokens. */
  streamFailure: { after: number; error: unknown } | undefined;
  /** Whether query() waits until aborted instead of answering. */
  stallQuery = false;
  tokenGapMs = 2;
  readyReport: ReadyReport = { ready: true, checks: { nats: true, embedder: true, llm: true }, missing: [], degraded: [] };
  statusReport: Record<string, unknown> = {
    nodes: 1,
    kinds: [
      { kind: "embedder", instances: 2, mailboxDepth: 3, state: "running" },
      { kind: "llm", instances: 1, mailboxDepth: 0, state: "ready" },
    ],
    cache: { hitRate: 0.25, enabled: true },
  };
  readonly dimension = 8;
  #failures = new Map<Operation, unknown>();
  #abortWaiters: (() => void)[] = [];
  #nextId = 1;

  failNext(op: Operation, error: unknown): void {
    this.#failures.set(op, error);
  }

  /** Resolves once `count` requests have been aborted. */
  async waitForAborts(count = 1): Promise<void> {
    while (this.aborted.length < count) await new Promise<void>((resolve) => this.#abortWaiters.push(resolve));
  }

  models(): ServedModels {
    return { embedder: "fake-embedder", llm: "fake-llm", embedders: ["fake-embedder", "fake-embedder-2"], llms: ["fake-llm"] };
  }

  /** The default embedder and the llm are loaded; the second embedder is not. */
  async modelStates(): Promise<ModelState[]> {
    return [
      { id: "fake-llm", kind: "llm", loaded: true },
      { id: "fake-embedder", kind: "embedder", loaded: true },
      { id: "fake-embedder-2", kind: "embedder", loaded: false },
    ];
  }

  async query(req: QueryRequest, scope: CallScope): Promise<QueryResult> {
    const { signal } = scope;
    this.requests.push({ op: "query", req, scope });
    this.#maybeFail("query");
    if (this.stallQuery) await this.#untilAborted("query", signal);
    const { answer, sources, sessionId } = this.#answer(req);
    const usage = { promptTokens: req.question.split(" ").length, completionTokens: answer.split(" ").length };
    return { answer, sources, sessionId, cached: false, partial: false, missingShards: [], degraded: false, timings: { total: 1 }, usage, truncated: false };
  }

  async *queryStream(req: QueryRequest, scope: CallScope): AsyncIterable<QueryEvent> {
    const { signal } = scope;
    this.requests.push({ op: "queryStream", req, scope });
    this.#maybeFail("queryStream");
    const { answer, sources, sessionId } = this.#answer(req);
    yield { type: "meta", sessionId, cached: false, partial: false, missingShards: [], degraded: false };
    const words = answer.split(" ");
    for (let i = 0; i < words.length; i++) {
      if (i >= this.stallStreamAfter) await this.#untilAborted("queryStream", signal);
      if (this.streamFailure !== undefined && i >= this.streamFailure.after) throw this.streamFailure.error;
      await this.#gap("queryStream", signal);
      yield { type: "token", text: i === 0 ? words[i]! : ` ${words[i]}` };
    }
    yield { type: "sources", sources };
    yield { type: "done", timings: { total: words.length }, usage: { promptTokens: req.question.split(" ").length, completionTokens: words.length }, truncated: false };
  }

  async ingest(documents: DocumentUpload[]): Promise<{ ids: string[] }> {
    this.requests.push({ op: "ingest" });
    this.#maybeFail("ingest");
    const ids = documents.map((doc) => {
      const id = doc.id ?? `doc-${this.#nextId++}`;
      this.documents.set(id, { text: doc.text, metadata: doc.metadata ?? {} });
      return id;
    });
    return { ids };
  }

  async getDocument(id: string): Promise<DocumentInfo | undefined> {
    this.#maybeFail("getDocument");
    const doc = this.documents.get(id);
    return doc && { id, chunks: Math.max(1, Math.ceil(doc.text.length / 100)), metadata: doc.metadata };
  }

  async deleteDocument(id: string): Promise<boolean> {
    this.#maybeFail("deleteDocument");
    return this.documents.delete(id);
  }

  async embed(texts: string[], _scope: CallScope, model = "fake-embedder"): Promise<{ model: string; dimension: number; vectors: Float32Array[] }> {
    this.#maybeFail("embed");
    return { model, dimension: this.dimension, vectors: texts.map((t) => this.vectorOf(t)) };
  }

  /** The embedding of a text: character counts in 8 buckets, L2-normalised (exact in float32). */
  vectorOf(text: string): Float32Array {
    const v = new Float32Array(this.dimension);
    for (const ch of text) v[ch.codePointAt(0)! % this.dimension]! += 1;
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  }

  async ready(): Promise<ReadyReport> {
    this.#maybeFail("ready");
    return this.readyReport;
  }

  /** Documents are searchable as soon as ingest() stores them. */
  async ingestProgress(): Promise<IngestStatus> {
    this.#maybeFail("ingestProgress");
    const n = this.documents.size;
    return { stored: n, pending: 0, indexed: n, errors: 0, lastErrors: [], searchable: true, behind: [] };
  }

  async status(): Promise<Record<string, unknown>> {
    this.#maybeFail("status");
    return this.statusReport;
  }

  #answer(req: QueryRequest): { answer: string; sources: Source[]; sessionId: string } {
    const words = new Set(req.question.toLowerCase().match(/\w+/g) ?? []);
    const scored = [...this.documents]
      .filter(([, doc]) => Object.entries(req.filter ?? {}).every(([k, v]) => doc.metadata[k] === v))
      .map(([id, doc]) => ({ id, doc, score: (doc.text.toLowerCase().match(/\w+/g) ?? []).filter((w) => words.has(w)).length }))
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, req.topK ?? 3);
    const sources: Source[] = scored.map((s, i) => ({
      docId: s.id,
      chunkId: `${s.id}#0`,
      ordinal: 0,
      score: s.score / scored[0]!.score,
      rank: i + 1,
      title: s.id,
      path: s.id,
      snippet: s.doc.text.slice(0, 80),
      text: s.doc.text,
      metadata: s.doc.metadata,
    }));
    const answer = sources.length === 0 ? "I do not know." : `From ${sources[0]!.docId}: ${sources[0]!.text}`;
    return { answer, sources, sessionId: req.sessionId ?? `session-${this.#nextId++}` };
  }

  #maybeFail(op: Operation): void {
    if (!this.#failures.has(op)) return;
    const error = this.#failures.get(op);
    this.#failures.delete(op);
    throw error;
  }

  async #gap(op: Operation, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(this.tokenGapMs, undefined, signal ? { signal } : {});
    } catch {
      throw this.#recordAbort(op, signal);
    }
  }

  #untilAborted(op: Operation, signal: AbortSignal | undefined): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (signal === undefined) return; // a stall without a signal lasts forever, as a real hung call would
      const onAbort = () => reject(this.#recordAbort(op, signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #recordAbort(op: Operation, signal: AbortSignal | undefined): ColmenaError {
    this.aborted.push({ op, reason: signal?.reason });
    for (const wake of this.#abortWaiters.splice(0)) wake();
    return new ColmenaError("CANCELLED", `${op} aborted`);
  }
}

