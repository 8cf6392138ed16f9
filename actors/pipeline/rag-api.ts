import { randomUUID } from "node:crypto";
import type { ActorSystem } from "../../runtime/index.js";
import type { AnswerCache } from "../cache/index.js";
import { EmbedderKind } from "../embedder/index.js";
import { findIndex, shardKey, ShardKind, shardOf, type IndexSpec } from "../index-shard/index.js";
import { IngestKind } from "../ingest/index.js";
import type { DocumentInfo, DocumentInput, QueryEvent, QueryRequest, QueryResult, RagApi, ReadyReport } from "./api.js";
import type { RagPipeline } from "./pipeline.js";

/** Kinds that must be hosted somewhere in the cluster for a node to be ready. */
const REQUIRED = ["embedder", "index-shard", "ingest", "query-coordinator", "llm", "session"];

/** RagApi on a running actor system: the pipeline for questions, the ingest and shard actors for documents. */
export class ActorRagApi implements RagApi {
  readonly #system: ActorSystem;
  readonly #pipeline: RagPipeline;
  readonly #cache: AnswerCache;
  readonly #index: IndexSpec;
  readonly #models: { embedder: string; llm: string };
  readonly #timeoutMs: number;

  constructor(parts: { system: ActorSystem; pipeline: RagPipeline; cache: AnswerCache; indexes: readonly IndexSpec[]; models: { embedder: string; llm: string }; timeoutMs: number }) {
    this.#system = parts.system;
    this.#pipeline = parts.pipeline;
    this.#cache = parts.cache;
    this.#index = findIndex(parts.indexes, undefined);
    this.#models = parts.models;
    this.#timeoutMs = parts.timeoutMs;
  }

  query(req: QueryRequest, signal?: AbortSignal): Promise<QueryResult> {
    return this.#pipeline.query(req, signal);
  }

  queryStream(req: QueryRequest, signal?: AbortSignal): AsyncIterable<QueryEvent> {
    return this.#pipeline.queryStream(req, signal);
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

  embed(texts: string[]) {
    return this.#pipeline.embed(texts, this.#timeoutMs);
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
    const ingest = await this.#system
      .pool(IngestKind)
      .ask({ type: "progress" }, { timeoutMs: 2_000 })
      .catch(() => undefined);
    return { nodes: this.#system.membership.nodes(), actors: this.#system.stats(), cache: this.#cache.stats(), ...(ingest && { ingest }) };
  }

  /** The embedder's model id, asked once at start (it names the model in cache keys and /v1/models). */
  static async embedderModel(system: ActorSystem, timeoutMs: number): Promise<string> {
    return (await system.pool(EmbedderKind).ask({ type: "embed", texts: ["colmena"] }, { timeoutMs })).model;
  }
}
