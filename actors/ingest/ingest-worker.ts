/**
 * The work an ingest actor instance does on each document of the ingest
 * stream. The runtime's durable intake delivers the documents through the
 * shared durable consumer (every worker in the cluster takes its share), at
 * most `inFlight` at once, and acks each once `handle` returns. Per document:
 * chunk it, embed the chunks through the embedder pool, append
 * `deleteDocument` and then one upsert per chunk to the document's shard
 * log. A crash before the ack redelivers it; the shard writes carry
 * Nats-Msg-Ids derived from the document's stream sequence, so a redelivery
 * within the duplicate window stores nothing twice (and applying them again
 * would be harmless anyway). A retryable failure is thrown back for another
 * delivery, with a growing delay, until `maxAttempts`; then, or at once for
 * a failure no retry mends, the document is given up and counted.
 *
 * Documents with the same id are processed one after another in delivery
 * order on this node, so a quick re-ingest cannot interleave its chunks with
 * the previous version's.
 */
import { ColmenaError, isColmenaError, sleep, systemClock, type Clock, type DurableSource, type Log, type Logger, type MessageSchemas, type Refs } from "../../runtime/index.js";
import { EmbedderKind } from "../embedder/embedder-actor.js";
import { findIndex, type IndexSpec } from "../index-shard/index-spec.js";
import type { Chunk } from "../index-shard/types.js";
import { chunkId, ShardLogWriter, shardOf, type ShardWrite } from "../index-shard/write-log.js";
import { chunk, type ChunkOptions } from "./chunker.js";
import { parseIngestRecord, type Document, type IngestRecord } from "./documents.js";
import { ingestDocuments } from "../metrics.js";
import { recordFailure } from "./ingest-failures.js";

export interface WorkerOptions {
  /** Where documents come from. */
  ingestLog: Log;
  /** Where their chunks go. */
  shardLog: Log;
  /** Where documents given up are recorded (ingest-failures.ts). */
  failureLog: Log;
  actors: Refs;
  indexes: readonly IndexSpec[];
  chunking: ChunkOptions;
  /** Texts per embed request. */
  embedBatch: number;
  embedTimeoutMs: number;
  /** Documents processed at once. */
  inFlight: number;
  /** Deliveries of a document before it is given up (counted in errors). */
  maxAttempts: number;
  ackWaitMs: number;
  log: Logger;
  /** Times the pauses before an overloaded embedder is asked again (default systemClock). */
  clock?: Clock;
}

export interface WorkerCounters {
  /** Documents this worker finished (indexed or removed). */
  documents: number;
  chunksWritten: number;
  /** Documents given up: malformed, or failed maxAttempts times. */
  errors: number;
  /** Failed attempts that were sent back for another try. */
  retries: number;
  /** The latest errors, newest last (at most 10). */
  lastErrors: { docId: string; code: string; message: string }[];
}

export const INGEST_CONSUMER = "ingest-workers";
const MAX_LAST_ERRORS = 10;

export class IngestWorker {
  readonly counters: WorkerCounters = { documents: 0, chunksWritten: 0, errors: 0, retries: 0, lastErrors: [] };
  readonly #o: WorkerOptions;
  readonly #clock: Clock;
  readonly #writer: ShardLogWriter;
  readonly #docLocks = new Map<string, Promise<void>>();

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#writer = new ShardLogWriter(options.shardLog);
  }

  /** The ingest stream through the consumer every worker shares; each pull takes only what free slots can start. */
  source<M extends MessageSchemas>(message: DurableSource<M>["message"]): DurableSource<M> {
    return {
      stream: this.#o.ingestLog.stream,
      durable: INGEST_CONSUMER,
      ackWaitMs: this.#o.ackWaitMs,
      maxDeliver: this.#o.maxAttempts,
      maxAckPending: 10_000,
      description: "Colmena ingest workers (shared by every ingest actor)",
      inFlight: this.#o.inFlight,
      retryDelayMs: (error, deliveries) => Math.min(30_000, (error.retryAfterMs ?? 500) * 2 ** (deliveries - 1)),
      message,
    };
  }

  /** One delivery of a document: done (or given up) when it returns; thrown back, retryable, for another delivery. */
  async handle(entry: { seq: number; deliveries: number; record: unknown }): Promise<void> {
    let record: IngestRecord;
    try {
      record = parseIngestRecord(entry.record);
    } catch (err) {
      await this.#giveUp(entry.seq, `seq:${entry.seq}`, ColmenaError.from(err));
      return;
    }
    const docId = record.op === "upsert" ? record.doc.id : record.docId;
    const unlock = await this.#lock(`${record.index}\u0000${docId}`);
    try {
      await this.#process(record, entry.seq);
      this.counters.documents++;
      ingestDocuments.inc({ outcome: "indexed" });
    } catch (err) {
      const error = ColmenaError.from(err);
      if (error.retryable && error.code !== "INTERNAL" && entry.deliveries < this.#o.maxAttempts) {
        this.counters.retries++;
        ingestDocuments.inc({ outcome: "retried" });
        this.#o.log.warn({ docId, attempt: entry.deliveries, code: error.code, err: error.message }, "ingest attempt failed; retrying");
        throw error;
      }
      await this.#giveUp(entry.seq, docId, error);
    } finally {
      unlock();
    }
  }

  async #process(record: IngestRecord, seq: number): Promise<void> {
    const spec = findIndex(this.#o.indexes, record.index);
    const docId = record.op === "upsert" ? record.doc.id : record.docId;
    const shard = shardOf(docId, spec.shards);
    const msgIdPrefix = `${spec.name}:${seq}:${shortHash(docId)}`;
    if (record.op === "delete") {
      await this.#writer.append(spec.name, shard, [{ op: "deleteDocument", docId }], msgIdPrefix);
      return;
    }
    const chunks = await this.#chunks(record.doc, spec);
    const writes: ShardWrite[] = [{ op: "deleteDocument", docId }, ...chunks.map((c): ShardWrite => ({ op: "upsert", chunk: c }))];
    await this.#writer.append(spec.name, shard, writes, msgIdPrefix);
    this.counters.chunksWritten += chunks.length;
  }

  async #chunks(doc: Document, spec: IndexSpec): Promise<Chunk[]> {
    const pieces = chunk(doc.text, this.#o.chunking);
    // The heading path goes into what is embedded (it says what the piece is about), not into the stored text.
    const vectors = await this.#embed(pieces.map((p) => (p.heading ? `${p.heading}\n\n${p.text}` : p.text)), spec);
    return pieces.map((p, i) => ({
      id: chunkId(doc.id, p.ordinal),
      docId: doc.id,
      text: p.text,
      vector: vectors[i]!,
      metadata: { ...(p.title !== undefined && { title: p.title }), ...doc.metadata, ...(p.heading !== undefined && !("heading" in doc.metadata) && { heading: p.heading }) },
      ordinal: p.ordinal,
    }));
  }

  /** Embeds in requests of `embedBatch` texts, all sent at once so the pool's batcher can group them. */
  async #embed(texts: string[], spec: IndexSpec): Promise<Float32Array[]> {
    const pool = this.#o.actors.pool(EmbedderKind);
    const requests: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < texts.length; i += this.#o.embedBatch) {
      const batch = texts.slice(i, i + this.#o.embedBatch);
      requests.push(
        withOverloadRetry(async () => {
          const reply = await pool.ask({ type: "embed", texts: batch }, { timeoutMs: this.#o.embedTimeoutMs });
          if (reply.dimension !== spec.dimension) {
            throw new ColmenaError("INVALID", `embedder ${reply.model} gives ${reply.dimension}-d vectors; index ${spec.name} holds ${spec.dimension}-d`);
          }
          return reply.vectors;
        }, this.#clock),
      );
    }
    return (await Promise.all(requests)).flat();
  }

  /** FIFO per key: resolves with the function that lets the next holder in. */
  async #lock(key: string): Promise<() => void> {
    const previous = this.#docLocks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.#docLocks.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#docLocks.get(key) === tail) this.#docLocks.delete(key);
    };
  }

  /** Counted here and stored in the failure stream (the count `progress` reports, which restarts keep) before the entry is given up. */
  async #giveUp(seq: number, docId: string, error: ColmenaError): Promise<void> {
    this.counters.errors++;
    ingestDocuments.inc({ outcome: "failed" });
    this.counters.lastErrors.push({ docId, code: error.code, message: error.message });
    if (this.counters.lastErrors.length > MAX_LAST_ERRORS) this.counters.lastErrors.shift();
    this.#o.log.error({ docId, code: error.code, err: error.message }, "document not indexed");
    await recordFailure(this.#o.failureLog, seq, { docId, code: error.code, message: error.message }).catch((err: unknown) =>
      this.#o.log.warn({ err, docId }, "could not record the failed document"),
    );
  }
}

/** Retries an OVERLOADED answer after its hint (up to 5 times); the intake keeps the document's lease meanwhile. */
async function withOverloadRetry<T>(fn: () => Promise<T>, clock: Clock): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isColmenaError(err, "OVERLOADED") || attempt >= 5) throw err;
      await sleep(clock, Math.min(5_000, err.retryAfterMs ?? 100));
    }
  }
}

function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
