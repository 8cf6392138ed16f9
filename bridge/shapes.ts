import { z } from "zod";
import { DocumentIdSchema, MAX_DOCUMENT_ID_LENGTH, SessionIdSchema, type DocumentInfo, type QueryEvent, type QueryRequest, type QueryResult, type Source } from "../actors/index.js";
import { cleanText } from "./text-rules.js";

/**
 * The wire shapes of the edge, shared by HTTP (JSON) and the NATS service
 * API (msgpack): snake_case field names, one zod schema per request. HTTP
 * turns them into JSON Schema for fastify's validator and the OpenAPI
 * document; NATS parses decoded msgpack with them directly.
 */

/** A session id becomes an actor key: the session's own rule (actors/session/session-id.ts). */
export const SessionId = SessionIdSchema;
export const MetadataValue = z.union([z.string(), z.number(), z.boolean()]);
export const Metadata = z.record(z.string(), MetadataValue);
/** The longest path parameter the router passes on: the longest id a path carries. Each route's schema bounds its own. */
export const MAX_PATH_PARAM_LENGTH = MAX_DOCUMENT_ID_LENGTH;
export const DocumentId = DocumentIdSchema;

export const DocumentInputShape = z.strictObject({
  id: DocumentId.optional().describe("generated when missing"),
  text: cleanText().min(1),
  metadata: Metadata.optional(),
});

export const IngestRequestShape = z.strictObject({
  documents: z.array(DocumentInputShape).min(1).max(10_000),
});

const queryFields = {
  question: cleanText().min(1).max(16_384),
  session_id: SessionId.optional(),
  top_k: z.int().min(1).max(100).optional(),
  filter: z.record(z.string(), MetadataValue).optional().describe("metadata that every source must match"),
  model: z.string().min(1).optional().describe("the LLM that answers, one of GET /v1/models; default: the configured llm.backend"),
};

/** HTTP `POST /v1/query`. */
export const HttpQueryShape = z.strictObject({
  ...queryFields,
  stream: z.boolean().optional().describe("answer as Server-Sent Events"),
});

/** NATS `<ns>.api.query`: the caller's deadline travels in the body. */
export const NatsQueryShape = z.strictObject({
  ...queryFields,
  timeout_ms: z.int().min(1).max(600_000).optional(),
});

export const NatsDeleteShape = z.strictObject({ id: DocumentId });

export const NatsEmbedShape = z.strictObject({
  texts: z.array(z.string()).min(1).max(2048),
  encoding: z.enum(["float", "binary"]).optional().describe("binary: each vector as float32 little-endian bytes"),
  model: z.string().min(1).optional().describe("one of the embedders GET /v1/models lists; default: the one retrieval uses"),
});

export const SourceShape = z.object({
  doc_id: z.string(),
  chunk_id: z.string(),
  ordinal: z.number().optional(),
  score: z.number().describe("relevance relative to the first source: 1 for the best document, the ratio of fused scores for the others"),
  rank: z.number().describe("1-based; citation [n] in the answer is source n"),
  title: z.string(),
  path: z.string(),
  heading: z.string().optional(),
  snippet: z.string().describe("excerpt of the best chunk around the question's words, without markup"),
  text: z.string(),
  metadata: Metadata,
});

export const QueryMetaShape = z.object({
  session_id: z.string(),
  cached: z.boolean(),
  partial: z.boolean().describe("some shards missed the deadline"),
  degraded: z.boolean().describe("no LLM could take the request; the extractive backend answered"),
  missing_shards: z.array(z.string()),
});

export const QueryResultShape = z.object({
  answer: z.string(),
  sources: z.array(SourceShape),
  ...QueryMetaShape.shape,
  timings: z.record(z.string(), z.number()).describe("milliseconds per stage"),
});

export const DocumentInfoShape = z.object({ id: z.string(), chunks: z.number(), metadata: Metadata });

export type WireSource = z.infer<typeof SourceShape>;
export type WireQueryResult = z.infer<typeof QueryResultShape>;
export type WireQueryMeta = z.infer<typeof QueryMetaShape>;

type QueryFields = { question: string; session_id?: string | undefined; top_k?: number | undefined; filter?: Record<string, string | number | boolean> | undefined; model?: string | undefined };

/** A validated wire request as the RagApi's QueryRequest. */
export function toQueryRequest(body: QueryFields): QueryRequest {
  const req: QueryRequest = { question: body.question };
  if (body.session_id !== undefined) req.sessionId = body.session_id;
  if (body.top_k !== undefined) req.topK = body.top_k;
  if (body.filter !== undefined) req.filter = body.filter;
  if (body.model !== undefined) req.model = body.model;
  return req;
}

export function toWireSource(s: Source): WireSource {
  const w: WireSource = { doc_id: s.docId, chunk_id: s.chunkId, score: s.score, rank: s.rank, title: s.title, path: s.path, snippet: s.snippet, text: s.text, metadata: s.metadata };
  if (s.ordinal !== undefined) w.ordinal = s.ordinal;
  if (s.heading !== undefined) w.heading = s.heading;
  return w;
}

export function toWireMeta(m: Extract<QueryEvent, { type: "meta" }> | QueryResult): WireQueryMeta {
  return { session_id: m.sessionId, cached: m.cached, partial: m.partial, degraded: m.degraded, missing_shards: m.missingShards };
}

export function toWireResult(r: QueryResult): WireQueryResult {
  return { answer: r.answer, sources: r.sources.map(toWireSource), ...toWireMeta(r), timings: r.timings };
}

export function toWireDocument(d: DocumentInfo): z.infer<typeof DocumentInfoShape> {
  return { id: d.id, chunks: d.chunks, metadata: d.metadata };
}
