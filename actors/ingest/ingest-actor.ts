/**
 * The ingest actor (pooled): the front door for documents and, unless
 * `workers` is off, one ingest worker per instance, fed by the runtime's
 * durable intake from the ingest stream (`document` messages).
 * `ingest` and `delete` answer once the request is stored in the ingest
 * stream; indexing follows asynchronously and `progress` shows how far it is.
 */
import { z } from "zod";
import { actorAddress, ColmenaError, hostActor, type ActorContext, type CallContext, type Log } from "../../runtime/index.js";
import { findIndex, IndexListSchema } from "../index-shard/index-spec.js";
import { DocumentIdSchema } from "../index-shard/wire-schemas.js";
import { EmbedderKind } from "../embedder/embedder-actor.js";
import { shardLogEnds } from "../index-shard/shards.js";
import { openShardLog, SHARD_LOG } from "../index-shard/write-log.js";
import { deleteDocuments, DocumentSchema, INGEST_LOG, ingestDocuments, openIngestLog } from "./documents.js";
import { FAILURE_LOG, openFailureLog, readFailures } from "./ingest-failures.js";
import { INGEST_CONSUMER, IngestWorker, type WorkerCounters } from "./ingest-worker.js";

const positive = z.number().int().positive();

/**
 * How long a store that failed for a passing reason is tried again, within
 * the caller's deadline less a margin to answer in: a stream's leader
 * election after a server loss takes seconds, and a client told 503 then
 * would have to send the documents again itself.
 */
const STORE_RETRY_MS = 15_000;
const REPLY_MARGIN_MS = 250;
const storeOptions = (index: string, call: CallContext) => ({ index, clock: call.clock, retryUntil: Math.min(call.deadline, call.clock.now() + STORE_RETRY_MS) - REPLY_MARGIN_MS });

export const IngestConfigSchema = z
  .strictObject({
    indexes: IndexListSchema,
    /** Run a worker loop in each instance (off: this node only accepts documents). */
    workers: z.boolean().default(true),
    chunking: z
      .strictObject({
        maxChars: positive.default(1_000),
        overlapChars: z.number().int().min(0).default(100),
        markdown: z.boolean().default(true),
      })
      .prefault({}),
    /** Documents one worker processes at once. */
    inFlight: positive.max(1_000).default(8),
    /** Texts per embed request. */
    embedBatch: positive.default(32),
    embedTimeoutMs: positive.default(30_000),
    /**
     * Deliveries of a document before a retryable failure gives it up (counted in errors). The delays double
     * from half a second up to 30 s, so ten deliveries span about two minutes: losing a NATS server and
     * re-electing its streams' leaders under load can outlast the seven seconds five of them spanned, and an
     * acknowledged document must outlive that.
     */
    maxAttempts: positive.default(10),
    /**
     * Redelivery of a document whose worker went silent this long (crashed, or cut off). A worker that is
     * still working renews its lease every half of it, so this bounds what a crash delays, not how long a
     * document may take.
     */
    ackWaitMs: positive.default(5_000),
    /** Documents one `ingest` message may carry. */
    maxDocumentsPerRequest: positive.default(1_000),
    instances: positive.default(1),
  })
  .refine((c) => c.chunking.overlapChars < c.chunking.maxChars, { message: "must be less than chunking.maxChars", path: ["chunking", "overlapChars"] });

export type IngestConfig = z.infer<typeof IngestConfigSchema>;
export type IngestConfigInput = z.input<typeof IngestConfigSchema>;

/**
 * What `progress` answers. `stored`, `pending`, `indexed`, `errors` and
 * `lastErrors` are read from the streams, so they are cluster-wide and a
 * restart keeps them; `documents`, `chunksWritten` and `retries` are the
 * answering instance's own since it started.
 */
export interface IngestProgress extends WorkerCounters {
  /** Entries (documents and deletions) ever stored in the ingest stream. */
  stored: number;
  /** Documents stored and not yet indexed, cluster-wide (waiting, or in progress on some worker). */
  pending: number;
  /** Entries done: their chunks are in the shard write log (searchable once the replicas apply it). */
  indexed: number;
  /**
   * Per index, the last write-log sequence of each shard, read after
   * `pending`: a worker writes a document's chunks before it stops counting
   * as pending, so replicas that reached these ends hold every entry no longer
   * pending (the ingest role may read the write log; the bridge may not).
   */
  logEnds: Record<string, number[]>;
}

export const INGEST_KIND = "ingest";

const messages = {
  ingest: z.object({ documents: z.array(DocumentSchema).min(1), index: z.string().optional() }),
  delete: z.object({ docId: DocumentIdSchema, index: z.string().optional() }),
  /** Cluster-wide figures from the streams, and the answering instance's own counters (IngestProgress). */
  progress: z.object({}),
  /** One entry of the ingest stream, delivered by the runtime's durable intake (senders cannot send it); the worker checks the record, so a bad one is counted in errors. */
  document: z.object({ seq: positive, deliveries: positive, record: z.unknown() }),
};

type IngestBehavior = Awaited<ReturnType<typeof createIngest>>;

/** The address of the ingest pool. */
export const IngestKind = actorAddress<typeof messages, IngestBehavior>({ kind: INGEST_KIND, placement: "pooled", messages });

/** How a node hosts the ingest pool with these settings. */
export function ingestActor(input: IngestConfigInput = {}) {
  const config = IngestConfigSchema.parse(input);
  return hostActor(IngestKind, {
    // The documents in flight, and room beside them for ingest, delete and progress requests, which
    // may each wait out a stream's leader election (STORE_RETRY_MS): cheap waits, that must not queue the rest.
    concurrency: config.inFlight + 64,
    mailbox: { capacity: 256 },
    instances: config.instances,
    create: (ctx: ActorContext) => createIngest(ctx, config),
    intake: { type: "document", source: (ingest) => ingest.queue() },
    stores: { logs: [INGEST_LOG.name, SHARD_LOG.name, FAILURE_LOG.name] },
    // Chunks are embedded here; they reach the shards through the write log, not as messages.
    calls: [EmbedderKind.kind],
  });
}

async function createIngest(ctx: ActorContext, config: IngestConfig) {
  const log = await openIngestLog(ctx.storage);
  const failureLog = await openFailureLog(ctx.storage);
  const worker = config.workers
    ? new IngestWorker({
        ingestLog: log,
        shardLog: await openShardLog(ctx.storage),
        failureLog,
        actors: ctx.actors,
        indexes: config.indexes,
        chunking: config.chunking,
        embedBatch: config.embedBatch,
        embedTimeoutMs: config.embedTimeoutMs,
        inFlight: config.inFlight,
        maxAttempts: config.maxAttempts,
        ackWaitMs: config.ackWaitMs,
        log: ctx.log,
        clock: ctx.clock,
      })
    : undefined;
  return {
    ingest: async (m: { documents: z.input<typeof DocumentSchema>[]; index?: string | undefined }, call: CallContext) => {
      const index = findIndex(config.indexes, m.index).name;
      if (m.documents.length > config.maxDocumentsPerRequest) {
        throw new ColmenaError("INVALID", `${m.documents.length} documents exceed the limit of ${config.maxDocumentsPerRequest} per request`);
      }
      return { ids: await ingestDocuments(log, m.documents, storeOptions(index, call)) };
    },
    delete: async (m: { docId: string; index?: string | undefined }, call: CallContext) => {
      const index = findIndex(config.indexes, m.index).name;
      return { ids: await deleteDocuments(log, [m.docId], storeOptions(index, call)) };
    },
    progress: async (): Promise<IngestProgress> => {
      const counters = worker?.counters ?? { documents: 0, chunksWritten: 0, errors: 0, retries: 0, lastErrors: [] };
      const [{ stored, pending }, failures] = await Promise.all([queueFigures(log), readFailures(failureLog)]);
      const ends = await Promise.all(config.indexes.map(async (spec) => [spec.name, await shardLogEnds(ctx.storage, spec)] as const));
      return { ...counters, ...failures, stored, pending, indexed: Math.max(0, stored - pending - failures.errors), logEnds: Object.fromEntries(ends) };
    },
    document: (m: { seq: number; deliveries: number; record: unknown }) => worker?.handle(m),
    /** Where the intake reads documents from (not a message: the runtime asks it once per incarnation); none without workers. */
    queue: () => worker?.source<typeof messages>((e) => ({ type: "document", seq: e.seq, deliveries: e.deliveries, record: e.value })),
  };
}

/**
 * Entries ever stored (the stream's last sequence), and those not yet done,
 * cluster-wide: those the workers' consumer has not delivered plus those
 * delivered and not yet acknowledged. Before any worker has started,
 * everything in the stream.
 */
async function queueFigures(log: Log): Promise<{ stored: number; pending: number }> {
  const [state, pending] = await Promise.all([log.state(), log.pending(INGEST_CONSUMER)]);
  return { stored: state.lastSeq, pending: pending ?? state.messages };
}
