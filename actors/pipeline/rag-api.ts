import { randomUUID } from "node:crypto";
import type { ActorSystem, CallScope } from "../../runtime/index.js";
import { EmbedderKind } from "../embedder/index.js";
import { findIndex, replicasBehind, shardKey, ShardKind, shardOf, type IndexSpec } from "../index-shard/index.js";
import { IngestKind } from "../ingest/index.js";
import type { DocumentInfo, DocumentUpload, IngestStatus, ModelState, QueryEvent, QueryRequest, QueryResult, RagApi, ReadyReport, ServedModels } from "./api.js";
import { PipelineKind } from "./pipeline-actor.js";
import { readiness } from "./readiness.js";

/** How long status and readiness wait for any one actor or node. */
const PROBE_MS = 2_000;

/** The kinds ActorRagApi sends to (the bridge's NATS permissions are cut from it, with `embedderModel`'s embedder). */
export const RAG_API_CALLS: readonly string[] = [PipelineKind.kind, IngestKind.kind, ShardKind.kind, EmbedderKind.kind];

/**
 * RagApi on a running actor system, for the edge: one message to the
 * pipeline pool per question, the ingest and shard actors for documents, the
 * embedder pool for embeddings, membership for readiness.
 */
export class ActorRagApi implements RagApi {
  readonly #system: ActorSystem;
  readonly #index: IndexSpec;
  readonly #indexes: readonly IndexSpec[];
  readonly #models: ServedModels;
  readonly #readyWhenDegraded: boolean;

  constructor(parts: { system: ActorSystem; indexes: readonly IndexSpec[]; models: ServedModels; readyWhenDegraded: boolean }) {
    this.#system = parts.system;
    this.#indexes = parts.indexes;
    this.#index = findIndex(parts.indexes, undefined);
    this.#models = parts.models;
    this.#readyWhenDegraded = parts.readyWhenDegraded;
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

  async embed(texts: string[], scope: CallScope, model?: string) {
    const out = await this.#system.within(scope).pool(EmbedderKind).ask({ type: "embed", texts, ...(model !== undefined && { model }) });
    return { model: out.model, dimension: out.dimension, vectors: out.vectors };
  }

  models(): ServedModels {
    return this.#models;
  }

  /** The embedder pool answers for its models; the llm pool's through the pipeline (the bridge's NATS permissions reach the llm only that way). */
  async modelStates(scope: CallScope): Promise<ModelState[]> {
    const refs = this.#system.within(scope);
    const [embedders, llms] = await Promise.all([
      refs
        .pool(EmbedderKind)
        .ask({ type: "models" }, { timeoutMs: PROBE_MS })
        .catch(() => undefined),
      refs
        .pool(PipelineKind)
        .ask({ type: "llmModels" }, { timeoutMs: PROBE_MS })
        .catch(() => undefined),
    ]);
    const loaded = (answer: { models: { id: string; state: string }[] } | undefined) => new Set(answer?.models.filter((m) => m.state === "loaded").map((m) => m.id));
    const [e, l] = [loaded(embedders), loaded(llms)];
    // The llms first, the default llm at the head: clients that take the first model listed chat with it.
    return [
      ...this.#models.llms.map((id): ModelState => ({ id, kind: "llm", loaded: l.has(id) })),
      ...this.#models.embedders.map((id): ModelState => ({ id, kind: "embedder", loaded: e.has(id) })),
    ];
  }

  ready(): Promise<ReadyReport> {
    return readiness({ system: this.#system, indexes: this.#indexes, readyWhenDegraded: this.#readyWhenDegraded, probeMs: PROBE_MS });
  }

  async ingestProgress(): Promise<IngestStatus> {
    const system = this.#system;
    // The ingest instance reads the write log's ends after `pending` (IngestProgress.logEnds).
    const progress = await system.pool(IngestKind).ask({ type: "progress" }, { timeoutMs: PROBE_MS });
    const behind = (
      await Promise.all(this.#indexes.map((spec) => replicasBehind(system, spec, progress.logEnds[spec.name] ?? [], { timeoutMs: PROBE_MS })))
    ).flat();
    const { stored, pending, indexed, errors, lastErrors } = progress;
    return { stored, pending, indexed, errors, lastErrors, searchable: pending === 0 && behind.length === 0, behind };
  }

  /** Every node's actors (worker threads included), ingest progress, the answer cache's hit rates and an llm instance's state; a part that does not answer is left out. */
  async status(): Promise<Record<string, unknown>> {
    const [actors, ingest, cache, llm] = await Promise.all([
      this.#system.clusterStats(PROBE_MS),
      this.ingestProgress().catch(() => undefined),
      this.#system
        .pool(PipelineKind)
        .ask({ type: "stats" }, { timeoutMs: PROBE_MS })
        .catch(() => undefined),
      // The llm instance's own statechart (loading, ready, busy, ...) and its engine's circuit: one instance of the pool answers.
      this.#system
        .pool(PipelineKind)
        .ask({ type: "llmStatus" }, { timeoutMs: PROBE_MS })
        .catch(() => undefined),
    ]);
    return { nodes: this.#system.membership.nodes(), actors, ...(cache && { cache }), ...(ingest && { ingest }), ...(llm && { llm }) };
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
    ...(req.model !== undefined && { model: req.model }),
  };
}
