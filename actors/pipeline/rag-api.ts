import { randomUUID } from "node:crypto";
import type { ActorSystem } from "../../runtime/index.js";
import { EmbedderKind } from "../embedder/index.js";
import { findIndex, shardKey, ShardKind, shardOf, type IndexSpec } from "../index-shard/index.js";
import { IngestKind } from "../ingest/index.js";
import type { DocumentInfo, DocumentInput, QueryEvent, QueryRequest, QueryResult, RagApi, ReadyReport } from "./api.js";
import { PIPELINE_KIND, PipelineKind } from "./pipeline-actor.js";

/** Kinds that must be hosted somewhere in the cluster for a node to be ready. */
const REQUIRED = ["embedder", "index-shard", "ingest", "query-coordinator", "llm", "session", PIPELINE_KIND];

/**
 * RagApi on a running actor system, for the edge: one message to the
 * pipeline pool per question, the ingest and shard actors for documents, the
 * embedder pool for embeddings, membership for readiness.
 */
export class ActorRagApi implements RagApi {
  readonly #system: ActorSystem;
  readonly #index: IndexSpec;
  readonly #models: { embedder: string; llm: string };
  readonly #timeoutMs: number;

  constructor(parts: { system: ActorSystem; indexes: readonly IndexSpec[]; models: { embedder: string; llm: string }; timeoutMs: number }) {
    this.#system = parts.system;
    this.#index = findIndex(parts.indexes, undefined);
    this.#models = parts.models;
    this.#timeoutMs = parts.timeoutMs;
  }

  /** An ask cannot be taken back: a caller that leaves stops waiting (the edge guards it), and the answer still fills the cache. */
  query(req: QueryRequest): Promise<QueryResult> {
    return this.#system.pool(PipelineKind).ask({ type: "answer", ...question(req) }, this.#call(req));
  }

  queryStream(req: QueryRequest, signal?: AbortSignal): AsyncIterable<QueryEvent> {
    const stream = this.#system.pool(PipelineKind).stream({ type: "stream", ...question(req) }, this.#call(req));
    signal?.addEventListener("abort", () => stream.cancel(), { once: true });
    return stream;
  }

  #call(req: QueryRequest) {
    return { timeoutMs: req.timeoutMs ?? this.#timeoutMs, ...(req.trace && { trace: req.trace }) };
  }

  async ingest(documents: DocumentInput[]): Promise<{ ids: string[] }> {
    const withIds = documents.map((d) => ({ ...d, id: d.id ?? randomUUID(), metadata: d.metadata ?? {} }));
    return this.#system.pool(IngestKind).ask({ type: "ingest", documents: withIds, index: this.#index.name }, { timeoutMs: this.#timeoutMs });
  }

  /** Asks the shard that holds the document (by the same hash ingest routes with); any replica will do. */
  async getDocument(id: string): Promise<DocumentInfo | undefined> {
    const shard = shardOf(id, this.#index.shards);
    const replica = Math.floor(Math.random() * this.#index.replicas);
    const found = await this.#system.ref(ShardKind, shardKey(this.#index.name, shard, replica)).ask({ type: "document", docId: id }, { timeoutMs: this.#timeoutMs });
    return found ? { id, chunks: found.chunks, metadata: found.metadata } : undefined;
  }

  async deleteDocument(id: string): Promise<boolean> {
    if (!(await this.getDocument(id))) return false;
    await this.#system.pool(IngestKind).ask({ type: "delete", docId: id, index: this.#index.name }, { timeoutMs: this.#timeoutMs });
    return true;
  }

  async embed(texts: string[]) {
    const out = await this.#system.pool(EmbedderKind).ask({ type: "embed", texts }, { timeoutMs: this.#timeoutMs });
    return { model: out.model, dimension: out.dimension, vectors: out.vectors };
  }

  models(): { embedder: string; llm: string } {
    return this.#models;
  }

  async ready(): Promise<ReadyReport> {
    const hosted = new Set(this.#system.membership.nodes().flatMap((n) => n.kinds));
    const checks: Record<string, boolean> = { nats: !this.#system.nc.isClosed() };
    for (const kind of REQUIRED) checks[kind] = hosted.has(kind);
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  async status(): Promise<Record<string, unknown>> {
    const [ingest, cache] = await Promise.all([
      this.#system
        .pool(IngestKind)
        .ask({ type: "progress" }, { timeoutMs: 2_000 })
        .catch(() => undefined),
      this.#system
        .pool(PipelineKind)
        .ask({ type: "stats" }, { timeoutMs: 2_000 })
        .catch(() => undefined),
    ]);
    return { nodes: this.#system.membership.nodes(), actors: this.#system.stats(), ...(cache && { cache }), ...(ingest && { ingest }) };
  }
}

/** The fields of a question the pipeline actor takes (its deadline and trace travel with the message). */
function question(req: QueryRequest) {
  return {
    question: req.question,
    ...(req.sessionId !== undefined && { sessionId: req.sessionId }),
    ...(req.history !== undefined && { history: req.history }),
    ...(req.topK !== undefined && { topK: req.topK }),
    ...(req.filter !== undefined && { filter: req.filter }),
  };
}
