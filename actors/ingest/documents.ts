/**
 * The ingest stream: documents to index and documents to remove, stored in
 * JetStream before anyone is told they were accepted. One stream per
 * namespace (`<ns>_ingest`, work-queue retention: an entry leaves once a
 * worker has written its chunks), one subject per index
 * (`<ns>.ingest.docs.<index>`). This file is the stream's whole format.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { Codec } from "../../nats/index.js";
import { ensureStream, jetStreamError, type StreamSpec } from "../../nats/index.js";
import { Subjects, subjectToken } from "../../runtime/index.js";
import { ColmenaError, invalid, zodIssues } from "../../runtime/index.js";
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

export const ingestStream = (subjects: Subjects): string => subjects.bucket("ingest");
export const ingestSubject = (subjects: Subjects, index: string): string => `${subjects.prefix}.ingest.docs.${subjectToken(index, "index name")}`;

export function ingestStreamSpec(subjects: Subjects): StreamSpec {
  return {
    name: ingestStream(subjects),
    subjects: [`${subjects.prefix}.ingest.docs.>`],
    storage: "file",
    retention: "workqueue",
    description: "Colmena ingest queue: documents to chunk, embed and write to their shard",
  };
}

export async function ensureIngestStream(nc: NatsConnection, subjects: Subjects): Promise<void> {
  await ensureStream(nc, ingestStreamSpec(subjects));
}

export function parseIngestRecord(value: unknown): IngestRecord {
  const r = value as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null || typeof r.index !== "string") throw invalid("an ingest record must be a map with an index");
  if (r.op === "upsert") {
    const doc = DocumentSchema.safeParse(r.doc);
    if (!doc.success) throw invalid(`ingest record holds a bad document: ${zodIssues(doc.error, { root: "(document)" }).join("; ")}`);
    return { op: "upsert", index: r.index, doc: doc.data };
  }
  if (r.op === "delete" && typeof r.docId === "string" && r.docId.length > 0) return { op: "delete", index: r.index, docId: r.docId };
  throw invalid(`unknown ingest record ${JSON.stringify(r.op)}`);
}

export interface IngestOptions {
  /** Default "colmena". */
  namespace?: string;
  /** Default "default". */
  index?: string;
  codec?: Codec;
}

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
export async function ingestDocuments(js: JetStreamClient, docs: readonly DocumentInput[], options: IngestOptions = {}): Promise<string[]> {
  const valid = validateDocuments(docs);
  const index = options.index ?? "default";
  return publishRecords(js, valid.map((doc) => ({ op: "upsert", index, doc })), options);
}

/** Queues the removal of documents (their chunks leave their shard); resolves once stored. */
export async function deleteDocuments(js: JetStreamClient, docIds: readonly string[], options: IngestOptions = {}): Promise<string[]> {
  if (docIds.length === 0 || docIds.some((id) => typeof id !== "string" || id.length === 0)) throw invalid("docIds must be non-empty strings");
  const index = options.index ?? "default";
  return publishRecords(js, docIds.map((docId) => ({ op: "delete", index, docId })), options);
}

async function publishRecords(js: JetStreamClient, records: IngestRecord[], options: IngestOptions): Promise<string[]> {
  const subjects = new Subjects(options.namespace);
  const codec = options.codec ?? new Codec();
  const encoded = records.map((r) => codec.encode(r)); // TOO_LARGE before anything is stored
  const ids = records.map((r) => (r.op === "upsert" ? r.doc.id : r.docId));
  const results = await Promise.allSettled(records.map((r, i) => js.publish(ingestSubject(subjects, r.index), encoded[i])));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
  if (failed.length > 0) {
    const first = (results[failed[0]!] as PromiseRejectedResult).reason;
    throw new ColmenaError("UNAVAILABLE", `${failed.length} of ${records.length} documents were not stored: ${jetStreamError(first, "ingest stream").message}`, {
      retryAfterMs: 1_000,
      details: { stored: ids.filter((_, i) => !failed.includes(i)), failed: failed.map((i) => ids[i]) },
    });
  }
  return ids;
}
