/** Ingest's public surface: the chunker, the ingest stream, and the pooled ingest actor with its worker loop. */
export { chunk } from "./chunker.js";
export type { ChunkOptions, TextPiece } from "./chunker.js";
export { deleteDocuments, DocumentSchema, INGEST_LOG, ingestDocuments, ingestSubject, openIngestLog } from "./documents.js";
export type { Document, DocumentInput, IngestOptions, IngestRecord } from "./documents.js";
export { INGEST_KIND, IngestConfigSchema, IngestKind, ingestActor } from "./ingest-actor.js";
export type { IngestConfig, IngestConfigInput, IngestProgress } from "./ingest-actor.js";
export type { WorkerCounters } from "./ingest-worker.js";
