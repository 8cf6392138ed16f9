import { randomUUID } from "node:crypto";
import type { ActorSystem, CallScope } from "../../runtime/index.js";
import { EmbedderKind } from "../embedder/index.js";
import { findIndex, shardKey, ShardKind, shardOf, type IndexSpec } from "../index-shard/index.js";
import { IngestKind } from "../ingest/index.js";
import type { DocumentInfo, DocumentUpload, QueryEvent, QueryRequest, QueryResult, RagApi, ReadyReport } from "./api.js";
import { PIPELINE_KIND, PipelineKind } from "./pipeline-actor.js";

/** Kinds that must be hosted somewhere in the cluster for a node to be ready. */
const REQUIRED = ["embedder", "index-shard", "ingest", "query-coordinator", "llm", "session", PIPELINE_KIND];

/** The kinds ActorRagApi sends to (the bridge's NATS permissions are cut from it, with `embedderModel`'s embedder). */
export const RAG_API_CALLS: readonly string[] = [PIPELINE_KIND, IngestKind.kind, ShardKind.kind, EmbedderKind.kind];

/**
 * RagApi on a running actor system, for the edge: one message to the
 * pipeline pool per question, the ingest and shard actors for documents, the
 * embedder pool for embeddings, membership for readiness.
 */
export class ActorRagApi implements RagApi {
  readonly #system: ActorSystem;
  readonly #index: IndexSpec;
  readonly #models: { embedder: string; llm: string };

  constructor(parts: { system: ActorSystem; indexes: readonly IndexSpec[]; models: { embedder: string; llm: string } }) {
    this.#system = parts.system;
    this.#index = findIndex(parts.indexes, undefined);
    this.#models = parts.models;
  }

  /** An ask cannot be taken back: a caller that leaves stops waiting (the edge guards it), and the answer still fills the cache. */
  query(req: QueryRequest, scope: CallScope): Promise<QueryResult> {
    return this.#system.within(scope).pool(PipelineKind).ask({ type: "answer", ...question(req) });
  }

  /** The stream is cancelled when the scope's signal aborts (the client went away). */
  queryStream(req: QueryRequest, scope: CallScope): AsyncIterable<QueryEvent> {
    return this.#system.within(scope).pool(PipelineKind).stream({ type: "stream", ...question(req) });
  }

  async ingest(documents: DocumentUpload[], scope: CallScope): Promise<{ ids: string[] }> {
    const withIds = documents.map((d) => ({ ...d, id: d.id ?? randomUUID(), metadata: d.metadata ?? {} }));
    return this.#system.within(scope).pool(IngestKind).ask({ type: "ingest", documents: withIds, index: this.#index.name });
  }

  /** Asks the shard that holds the document (by the same hash ingest routes with); any replica will do. */
  async getDocument(id: string, scope: CallScope): Promise<DocumentInfo | undefined> {
    const shard = shardOf(id, this.#index.shards);
    const replica = Math.floor(Math.random() * this.#index.replicas);
    const found = await this.#system.within(scope).ref(ShardKind, shardKey(this.#index.name, shard, replica)).ask({ type: "document", docId: id });
    return found ? { id, chunks: found.chunks, metadata: found.metadata } : undefined;
  }

  async deleteDocument(id: string, scope: CallScope): Promise<boolean> {
    if (!(await this.getDocument(id, scope))) return false;
    await this.#system.within(scope).pool(IngestKind).ask({ type: "delete", docId: id, index: this.#index.name });
    return true;
  }

  async embed(texts: string[], scope: CallScope) {
    const out = await this.#system.within(scope).pool(EmbedderKind).ask({ type: "embed", texts });
    return { model: out.model, dimension: out.dimension, vectors: out.vectors };
  }

  models(): { embedder: string; llm: string } {
    return this.#models;
  }

  async ready(): Promise<ReadyReport> {
    const hosted = new Set(this.#system.membership.nodes().flatMap((n) => n.kinds));
    // faults: nothing escaped every handler (the process guard's count); lease: this node's heartbeats get through.
    const checks: Record<string, boolean> = { nats: !this.#system.nc.isClosed(), faults: this.#system.faults.count === 0, lease: !this.#system.membership.fenced };
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

/** The fields of a question the pipeline actor takes (its deadline and trace travel with the scope). */
function question(req: QueryRequest) {
  return {
    question: req.question,
    ...(req.sessionId !== undefined && { sessionId: req.sessionId }),
    ...(req.history !== undefined && { history: req.history }),
    ...(req.topK !== undefined && { topK: req.topK }),
    ...(req.filter !== undefined && { filter: req.filter }),
    ...(req.maxTokens !== undefined && { maxTokens: req.maxTokens }),
    ...(req.sampling !== undefined && { sampling: req.sampling }),
  };
}
