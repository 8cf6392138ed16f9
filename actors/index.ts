/**
 * The public surface of actors/: the RAG actor kinds and the pure modules
 * they are built from. So far: retrieval (embedder pool, index shards on a
 * JetStream write log, durable ingest, query coordinator), the llm pool,
 * sessions, the answer cache, and the pipeline that joins them behind RagApi. Each retrieval kind comes as a factory taking its validated config (what a
 * node hosts) and as a `*Kind` constant (the address any node uses to reach it).
 */
export * from "./embedder/index.js";
export * from "./index-shard/index.js";
export * from "./ingest/index.js";
export * from "./query/index.js";
export * from "./llm/index.js";
export * from "./session/index.js";
export * from "./cache/index.js";
export { RetrievalConfigSchema, retrievalKinds } from "./retrieval.js";
export type { RetrievalConfig, RetrievalConfigInput, RetrievalRole } from "./retrieval.js";
export { RagPipeline, type PipelineParts } from "./pipeline/pipeline.js";
export { embedderModel, PIPELINE_KIND, PipelineConfigSchema, PipelineKind, pipelineActor, type PipelineActorParts, type PipelineConfig } from "./pipeline/pipeline-actor.js";
export { ActorRagApi, RAG_API_CALLS } from "./pipeline/rag-api.js";
export { followIndexVersion, type IndexVersion } from "./pipeline/index-version.js";
export { documentSources } from "./pipeline/sources.js";
export type { ChatMessage, DocumentInfo, DocumentUpload, Filter, IngestStatus, MetadataValue, ModelState, QueryEvent, QueryRequest, QueryResult, RagApi, ReadyReport, Sampling, ServedModels, Source, Usage } from "./pipeline/api.js";
