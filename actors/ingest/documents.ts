/**
 * The ingest stream: documents to index and documents to remove, stored in
 * JetStream before anyone is told they were accepted. One stream per
 * namespace (`<ns>_ingest`, work-queue retention: an entry leaves once a
 * worker has written its chunks), one subject per index
 * (`<ns>.ingest.docs.<index>`). This file is the stream's whole format.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ColmenaError, invalid, sleep, systemClock, zodIssues, type Clock, type Log, type LogSpec, type Storage } from "../../runtime/index.js";
import { DocumentIdSchema } from "../index-shard/wire-schemas.js";

const metadataValue = z.union([z.string(), z.number().refine(Number.isFinite, "must be finite"), z.boolean()]);

/** A document as callers hand it in. */
export const DocumentSchema = z.strictObject({
  /** Stable id: ingesting the same id again replaces the document. */
  id: DocumentIdSchema,
  text: z.string().refine((t) => t.trim().length > 0, "text is empty"),
  /** Copied to every chunk; filters match on it. */
  metadata: z.record(z.string(), metadataValue).default({}),
});

export type Document = z.output<typeof DocumentSchema>;
export type DocumentInput = z.input<typeof DocumentSchema>;

/** One entry of the ingest stream. */
export type IngestRecord = { op: "upsert"; index: string; doc: Document } | { op: "delete"; index: string; docId: string };

/** An ingest record's shape, checked by the worker before it does anything with it. */
export const IngestRecordSchema: z.ZodType<IngestRecord> = z.discriminatedUnion("op", [
  z.object({ op: z.literal("upsert"), index: z.string().min(1), doc: DocumentSchema }),
  z.object({ op: z.literal("delete"), index: z.string().min(1), docId: DocumentIdSchema }),
]);

export const INGEST_LOG: LogSpec = {
  name: "ingest",
  retention: "workqueue",
  description: "Colmena ingest queue: documents to chunk, embed and write to their shard",
};

/** The ingest stream (created if missing). */
export const openIngestLog = (storage: Storage): Promise<Log> => storage.log(INGEST_LOG);

/** The subject of one index's documents. */
export const ingestSubject = (log: Log, index: string): string => log.subject("docs", index);

export function parseIngestRecord(value: unknown): IngestRecord {
  const parsed = IngestRecordSchema.safeParse(value);
  if (!parsed.success) throw invalid(`not an ingest record: ${zodIssues(parsed.error, { root: "(record)" }).join("; ")}`);
  return parsed.data;
}

export interface IngestOptions {
  /** Default "default". */
  index?: string;
  /**
   * Until when (ms on `clock`) entries the stream could not store for a
   * passing reason (UNAVAILABLE: a stream electing a leader after a server
   * loss) are sent again; default: no retry.
   */
  retryUntil?: number;
  clock?: Clock;
}

/** First pause before entries not stored are sent again; it doubles up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 1_000;

/** Checks every document first (INVALID names the first bad one), so a bad batch stores nothing. */
export function validateDocuments(docs: unknown): Document[] {
  if (!Array.isArray(docs) || docs.length === 0) throw invalid("documents must be a non-empty array");
  return docs.map((d, i) => {
    const parsed = DocumentSchema.safeParse(d);
    if (!parsed.success) {
      throw invalid(`document ${i}: ${zodIssues(parsed.error, { root: "(document)" }).join("; ")}`, { index: i });
    }
    return parsed.data;
  });
}

/**
 * Stores documents in the ingest stream and resolves with their ids once
 * every one is stored: from then on they survive any crash and will be
 * indexed. A failure after some were stored is UNAVAILABLE listing the ids
 * stored; sending the whole batch again is harmless (a re-ingest replaces).
 */
export async function ingestDocuments(log: Log, docs: readonly DocumentInput[], options: IngestOptions = {}): Promise<string[]> {
  const valid = validateDocuments(docs);
  const index = options.index ?? "default";
  return publishRecords(log, valid.map((doc) => ({ op: "upsert", index, doc })), options);
}

/** Queues the removal of documents (their chunks leave their shard); resolves once stored. */
export async function deleteDocuments(log: Log, docIds: readonly string[], options: IngestOptions = {}): Promise<string[]> {
  if (docIds.length === 0 || docIds.some((id) => typeof id !== "string" || id.length === 0)) throw invalid("docIds must be non-empty strings");
  const index = options.index ?? "default";
  return publishRecords(log, docIds.map((docId) => ({ op: "delete", index, docId })), options);
}

/**
 * Stores the records, sending again those not stored for a retryable reason
 * until `retryUntil`. Each entry keeps one message id across its tries, so
 * one whose store succeeded though its answer was lost is not stored twice
 * (within the stream's duplicate window).
 */
async function publishRecords(log: Log, records: IngestRecord[], options: IngestOptions): Promise<string[]> {
  const ids = records.map((r) => (r.op === "upsert" ? r.doc.id : r.docId));
  const clock = options.clock ?? systemClock;
  const batch = randomUUID();
  const entries = records.map((r, i) => ({ subject: ingestSubject(log, r.index), value: r, msgId: `${batch}:${i}` }));
  let failed = entries.map((_, i) => i);
  let reason: ColmenaError | undefined;
  for (let pause = RETRY_FIRST_MS; ; pause = Math.min(RETRY_MAX_MS, pause * 2)) {
    const results = await log.appendAll(failed.map((i) => entries[i]!));
    const rejected = results.flatMap((r, j) => (r.status === "rejected" ? [{ i: failed[j]!, error: ColmenaError.from(r.reason) }] : []));
    failed = rejected.map((r) => r.i);
    reason = rejected[0]?.error;
    if (reason === undefined) return ids;
    if (!reason.retryable || options.retryUntil === undefined || clock.now() + pause >= options.retryUntil) break;
    await sleep(clock, pause);
  }
  throw new ColmenaError("UNAVAILABLE", `${failed.length} of ${records.length} documents were not stored: ${reason.message}`, {
    retryAfterMs: 1_000,
    details: { stored: ids.filter((_, i) => !failed.includes(i)), failed: failed.map((i) => ids[i]) },
  });
}
