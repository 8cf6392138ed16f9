/**
 * The metric families a Colmena node exports, with their types: the
 * runtime's, the actor kinds', the bridge's and Node's process figures that
 * dashboards and scaling policies may name. One list, read by
 * `colmena nomad validate` (every metric a scaling query names must be one
 * of these) and by the exporter test, which checks a running node exports
 * exactly these `colmena_` families, so the list cannot drift from the code.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export const EXPORTED_FAMILIES: Readonly<Record<string, MetricType>> = {
  // bridge/http/metrics.ts
  colmena_http_requests_total: "counter",
  colmena_http_request_duration_seconds: "histogram",
  colmena_http_requests_in_flight: "gauge",
  // runtime/observe/metrics.ts
  colmena_actor_messages_total: "counter",
  colmena_actor_handle_duration_seconds: "histogram",
  colmena_stage_duration_seconds: "histogram",
  colmena_actor_mailbox_depth: "gauge",
  colmena_actor_in_flight: "gauge",
  colmena_actor_instances: "gauge",
  colmena_actor_slots: "gauge",
  colmena_consumer_lag: "gauge",
  // runtime/cluster/malformed.ts
  colmena_malformed_entries_total: "counter",
  // actors/metrics.ts
  colmena_embedder_batch_size: "histogram",
  colmena_embedder_inference_duration_seconds: "histogram",
  colmena_llm_prompt_tokens_total: "counter",
  colmena_llm_generated_tokens_total: "counter",
  colmena_llm_time_to_first_token_seconds: "histogram",
  colmena_llm_inference_duration_seconds: "histogram",
  colmena_llm_sequences: "gauge",
  colmena_models_loaded: "gauge",
  colmena_model_memory_bytes: "gauge",
  colmena_cache_lookups_total: "counter",
  colmena_shard_search_duration_seconds: "histogram",
  colmena_shard_search_hits: "histogram",
  colmena_ingest_documents_total: "counter",
  colmena_pipeline_stage_duration_seconds: "histogram",
  // Node's process figures (cli/metrics-server.ts), the ones worth a panel or a policy.
  process_cpu_seconds_total: "counter",
  process_resident_memory_bytes: "gauge",
  nodejs_heap_size_used_bytes: "gauge",
  nodejs_eventloop_lag_seconds: "gauge",
};

/** Families a node exports only where `nvidia-smi` answers (cli/gpu-metrics.ts). */
export const GPU_FAMILIES: Readonly<Record<string, MetricType>> = {
  colmena_gpu_utilization_ratio: "gauge",
  colmena_gpu_memory_used_bytes: "gauge",
  colmena_gpu_memory_total_bytes: "gauge",
};

/** The series names a family's samples carry: a histogram's `_bucket`, `_sum` and `_count`, another family's own name. */
export function seriesNames(family: string, type: MetricType): string[] {
  return type === "histogram" ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
}

/** Every series name a node exports, for checking a query. */
export const EXPORTED_SERIES: ReadonlySet<string> = new Set(Object.entries({ ...EXPORTED_FAMILIES, ...GPU_FAMILIES }).flatMap(([name, type]) => seriesNames(name, type)));
