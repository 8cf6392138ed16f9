import { Counter, Gauge, Histogram } from "prom-client";
import { DURATION_BUCKETS, nodeMetrics } from "../runtime/index.js";

/**
 * The RAG kinds' own figures, in the thread's `nodeMetrics` registry beside
 * the runtime's (so an actor thread's reach the bridge's /metrics like the
 * rest). Labels are bounded sets: a cache level, a hit or miss, an ingest
 * outcome, a pipeline stage — never a question, key or document id.
 */
const registers = [nodeMetrics];

export const embedderBatchSize = new Histogram({ name: "colmena_embedder_batch_size", help: "Texts per embedder inference", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers });
export const embedderInference = new Histogram({ name: "colmena_embedder_inference_duration_seconds", help: "Time of one embedder inference (one batch)", buckets: DURATION_BUCKETS, registers });

export const llmPromptTokens = new Counter({ name: "colmena_llm_prompt_tokens_total", help: "Prompt tokens of finished generations", registers });
export const llmGeneratedTokens = new Counter({ name: "colmena_llm_generated_tokens_total", help: "Tokens generated", registers });
export const llmTimeToFirstToken = new Histogram({ name: "colmena_llm_time_to_first_token_seconds", help: "Time from a generation's start to its first token", buckets: DURATION_BUCKETS, registers });
export const llmInference = new Histogram({ name: "colmena_llm_inference_duration_seconds", help: "Time of one generation, start to last token", buckets: DURATION_BUCKETS, registers });

/** One llm instance's sequences: generating now (its backend's slots in use), and waiting in its mailbox behind them. */
export interface LlmSequences {
  active: number;
  waiting: number;
}

const llmInstances = new Set<() => LlmSequences>();

/** Where `colmena_llm_sequences` reads an llm instance while its backend is loaded. */
export function addLlmInstance(read: () => LlmSequences): () => void {
  llmInstances.add(read);
  return () => llmInstances.delete(read);
}

new Gauge({
  name: "colmena_llm_sequences",
  help: "Sequences of this node's llm instances: active (generating) and waiting (queued behind them)",
  labelNames: ["state"],
  registers,
  collect() {
    let active = 0;
    let waiting = 0;
    for (const read of llmInstances) {
      const s = read();
      active += s.active;
      waiting += s.waiting;
    }
    this.set({ state: "active" }, active);
    this.set({ state: "waiting" }, waiting);
  },
});

/** What the model gauges read of one instance's models. */
interface ModelHolder {
  list(): ReadonlyArray<{ state: string }>;
  readonly committedBytes: number;
}

const modelHolders = new Map<ModelHolder, string>();

/** Where `colmena_models_loaded` and `colmena_model_memory_bytes` read an instance's model registry, under its kind; returns what stops it. */
export function addModelRegistry(kind: string, holder: ModelHolder): () => void {
  modelHolders.set(holder, kind);
  return () => modelHolders.delete(holder);
}

/** Sums per kind over this node's registries; the kinds a node hosts none of read 0. */
function modelsPerKind(read: (h: ModelHolder) => number): Map<string, number> {
  const sums = new Map<string, number>([
    ["embedder", 0],
    ["llm", 0],
  ]);
  for (const [holder, kind] of modelHolders) sums.set(kind, (sums.get(kind) ?? 0) + read(holder));
  return sums;
}

new Gauge({
  name: "colmena_models_loaded",
  help: "Models loaded now in this node's embedder and llm instances, by kind",
  labelNames: ["kind"],
  registers,
  collect() {
    for (const [kind, n] of modelsPerKind((h) => h.list().filter((m) => m.state === "loaded").length)) this.set({ kind }, n);
  },
});

new Gauge({
  name: "colmena_model_memory_bytes",
  help: "Estimated bytes of the models this node's instances hold (loading, loaded or unloading), by kind: what their memory budgets count",
  labelNames: ["kind"],
  registers,
  collect() {
    for (const [kind, n] of modelsPerKind((h) => h.committedBytes)) this.set({ kind }, n);
  },
});

export const cacheLookups = new Counter({ name: "colmena_cache_lookups_total", help: "Answer cache lookups per level, by result (a miss at one level goes on to the next)", labelNames: ["level", "result"], registers });

export const shardSearch = new Histogram({ name: "colmena_shard_search_duration_seconds", help: "Time of one shard replica's search (HNSW + BM25)", buckets: DURATION_BUCKETS, registers });
export const shardHits = new Histogram({ name: "colmena_shard_search_hits", help: "Hits one shard replica's search returned", buckets: [0, 1, 5, 10, 20, 50, 100, 200], registers });

export const ingestDocuments = new Counter({ name: "colmena_ingest_documents_total", help: "Documents handled by ingest workers, by outcome", labelNames: ["outcome"], registers });

export const stageDuration = new Histogram({
  name: "colmena_pipeline_stage_duration_seconds",
  help: "Time a question spent in each stage of the pipeline (session, cache, retrieval, generation, total)",
  labelNames: ["stage"],
  buckets: DURATION_BUCKETS,
  registers,
});
