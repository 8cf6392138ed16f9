/**
 * One replica of one shard: its ShardIndex, how it applies the shard's write
 * log, and its snapshots. The keyed shard actor owns one; the runtime's
 * durable intake delivers the log's entries to it as `apply` messages.
 *
 * Start: load the newest snapshot from the replica's directory (or begin
 * empty); `source()` then names the replica's durable consumer, recreated at
 * the snapshot's lastSeq + 1. The consumer is recreated rather than resumed
 * because its ack floor may be ahead of the snapshot (writes applied and
 * acked after the last snapshot, then lost in a crash): the snapshot, not the
 * server, knows what this replica holds.
 *
 * Apply: entries come one at a time in stream order, each acked after it is
 * applied; `lastSeq` is the stream sequence of the last one. An entry at or
 * below `lastSeq` is skipped, so nothing is applied twice. An entry that is
 * not msgpack never gets here (the intake passes it over); one that is not a
 * shard write, or a write the index refuses (bad chunk, wrong dimension), is
 * counted as rejected, logged and passed over, so one bad write cannot stall
 * the shard.
 *
 * Handover: the node a replica moves to first runs a replica of its own
 * over its snapshot, catches it up with the log (`catchUp`) and stops it,
 * which leaves a snapshot at the log's end there; the activation that
 * follows starts from it and replays only what came after.
 *
 * Snapshot: every `snapshotEveryWrites` writes, every `snapshotIntervalMs`
 * when something changed, and on stop. No entry is applied while a snapshot
 * is being written, so the snapshot's lastSeq is exactly what it holds.
 */
import { join } from "node:path";
import type { Clock, DurableSource, Log, MessageSchemas, TimerHandle } from "../../runtime/index.js";
import { ColmenaError, invalid, isTypedError, zodIssues } from "../../runtime/index.js";
import type { Logger } from "../../runtime/index.js";
import type { IndexSpec, ShardAddress } from "./index-spec.js";
import { shardKey } from "./index-spec.js";
import { ShardIndex } from "./shard-index.js";
import { loadSnapshot, saveSnapshot } from "./snapshot.js";
import type { Hit, Metadata, ShardQuery, ShardResults } from "./types.js";
import { shardLogSubject, ShardWriteSchema } from "./write-log.js";

export interface ReplicaOptions {
  /** The shard write log. */
  writeLog: Log;
  clock: Clock;
  spec: IndexSpec;
  address: ShardAddress;
  dataDir: string;
  log: Logger;
  snapshotEveryWrites: number;
  snapshotIntervalMs: number;
  /** Log entries the consumer buffers at once. */
  pullBatch: number;
  ackWaitMs: number;
}

export interface ReplicaStats {
  index: string;
  shard: number;
  replica: number;
  /** Live chunks. */
  size: number;
  /** Stream sequence of the last log entry applied (or passed over). */
  lastSeq: number;
  /** lastSeq of the newest snapshot on disk. */
  snapshotSeq: number;
  /** lastSeq of the snapshot this activation started from (0: none). */
  loadedSeq: number;
  /** Log entries applied by this activation. */
  applied: number;
  /** Entries at or below lastSeq that arrived again and were ignored. */
  skipped: number;
  /** Malformed entries passed over. */
  rejected: number;
  /** True until lastSeq reaches the log's end as it was at activation. */
  catchingUp: boolean;
}

export class ShardReplica {
  readonly key: string;
  readonly #o: ReplicaOptions;
  readonly #dir: string;
  #index!: ShardIndex;
  #lastSeq = 0;
  #snapshotSeq = 0;
  #loadedSeq = 0;
  #sinceSnapshot = 0;
  #catchUpTo = 0;
  #counts = { applied: 0, skipped: 0, rejected: 0 };
  #snapshotting: Promise<void> | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: ReplicaOptions) {
    this.#o = options;
    const { index, shard, replica } = options.address;
    this.key = shardKey(index, shard, replica);
    this.#dir = join(options.dataDir, index, String(shard), `r${replica}`);
  }

  async start(): Promise<void> {
    const { writeLog, spec, address, log } = this.#o;
    const loaded = await loadSnapshot(this.#dir, { onSkip: (path, reason) => log.warn({ path, reason }, "skipped a damaged snapshot") });
    if (loaded !== undefined && loaded.index.dimension !== spec.dimension) {
      throw new ColmenaError("INVALID", `snapshot in ${this.#dir} has dimension ${loaded.index.dimension}, index ${spec.name} is configured for ${spec.dimension}`);
    }
    this.#index = loaded?.index ?? new ShardIndex(indexOptions(spec));
    this.#lastSeq = this.#snapshotSeq = this.#loadedSeq = loaded?.lastSeq ?? 0;

    await this.#checkRetention();
    this.#catchUpTo = await writeLog.lastSequenceOn(shardLogSubject(writeLog, address.index, address.shard));
    this.#scheduleSnapshot();
    log.info({ size: this.#index.size, fromSeq: this.#lastSeq + 1, catchUpTo: this.#catchUpTo }, "shard replica started");
  }

  /** The write log from the entry after the newest snapshot, one entry at a time in stream order. */
  source<M extends MessageSchemas>(message: DurableSource<M>["message"]): DurableSource<M> {
    const { writeLog, address } = this.#o;
    return {
      stream: writeLog.stream,
      durable: this.key,
      filterSubject: shardLogSubject(writeLog, address.index, address.shard),
      startSeq: this.#lastSeq + 1,
      ackWaitMs: this.#o.ackWaitMs,
      maxAckPending: Math.max(this.#o.pullBatch * 2, 64),
      description: `shard replica ${this.key}`,
      inFlight: 1,
      pullBatch: this.#o.pullBatch,
      message,
    };
  }

  /** Applies one write-log entry (after the snapshot being written, if any), and snapshots every snapshotEveryWrites. */
  async apply(seq: number, write: unknown): Promise<void> {
    if (this.#snapshotting !== undefined) await this.#snapshotting;
    this.#apply(seq, write);
    if (this.#sinceSnapshot >= this.#o.snapshotEveryWrites) await this.#snapshot();
  }

  /**
   * Applies the log after lastSeq through its end as it is now, read without
   * the replica's durable consumer, which another node may be applying
   * from: how a node about to take the replica over catches up first.
   * Answers lastSeq.
   */
  async catchUp(signal?: AbortSignal): Promise<number> {
    const { writeLog, address } = this.#o;
    const subject = shardLogSubject(writeLog, address.index, address.shard);
    const end = await writeLog.lastSequenceOn(subject);
    for await (const entry of writeLog.replay(subject, this.#lastSeq + 1, end, signal)) await this.apply(entry.seq, entry.value);
    return this.#lastSeq;
  }

  /** Stops the snapshot timer, and snapshots what changed (the intake has stopped before: nothing is applied after). */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#snapshotting;
    if (this.#sinceSnapshot > 0) await this.#snapshot();
  }

  search(query: ShardQuery): ShardResults {
    return this.#index.search(query);
  }

  get(ids: readonly string[]): Omit<Hit, "score">[] {
    return ids.flatMap((id) => this.#index.get(id) ?? []);
  }

  /** A document's chunk count and metadata (its first chunk's, less the per-chunk `heading`), or null when the shard holds none of it. */
  document(docId: string): { docId: string; chunks: number; metadata: Metadata } | null {
    const chunks = this.#index.chunksOf(docId).flatMap((id) => this.#index.get(id) ?? []);
    if (chunks.length === 0) return null;
    const first = chunks.reduce((a, b) => ((b.ordinal ?? 0) < (a.ordinal ?? 0) ? b : a));
    const { heading: _, ...metadata } = first.metadata;
    return { docId, chunks: chunks.length, metadata };
  }

  /** Stream sequence of the last log entry applied (or passed over). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** True until lastSeq reaches the log's end as it was at activation. */
  get catchingUp(): boolean {
    return this.#lastSeq < this.#catchUpTo;
  }

  stats(): ReplicaStats {
    const { index, shard, replica } = this.#o.address;
    return {
      index,
      shard,
      replica,
      size: this.#index.size,
      lastSeq: this.#lastSeq,
      snapshotSeq: this.#snapshotSeq,
      loadedSeq: this.#loadedSeq,
      ...this.#counts,
      catchingUp: this.catchingUp,
    };
  }

  /** Writes a snapshot now (when anything changed since the last one). */
  async snapshotNow(): Promise<number> {
    await this.#snapshotting;
    if (this.#sinceSnapshot > 0) await this.#snapshot();
    return this.#snapshotSeq;
  }

  #apply(seq: number, value: unknown): void {
    if (seq <= this.#lastSeq) {
      this.#counts.skipped++;
      return;
    }
    const parsed = ShardWriteSchema.safeParse(value);
    try {
      if (!parsed.success) throw invalid(`not a shard write: ${zodIssues(parsed.error).join("; ")}`);
      const write = parsed.data;
      if (write.op === "upsert") this.#index.upsert(write.chunk);
      else if (write.op === "delete") this.#index.delete(write.chunkId);
      else this.#index.deleteDocument(write.docId);
      this.#counts.applied++;
    } catch (err) {
      // Bad input is refused before it reaches the index's native state; anything else is a failure.
      if (!isTypedError(err) || err.code !== "INVALID") throw err;
      this.#counts.rejected++;
      this.#o.log.warn({ seq, op: parsed.data?.op, err: err.message }, "passed over a malformed shard write");
    }
    this.#lastSeq = seq;
    this.#sinceSnapshot++;
  }

  /** Every snapshotIntervalMs, a snapshot when anything changed; stopped by stop(). */
  #scheduleSnapshot(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      if (this.#timer === undefined) return;
      if (this.#sinceSnapshot > 0) void this.#snapshot();
      this.#scheduleSnapshot();
    }, this.#o.snapshotIntervalMs);
  }

  #snapshot(): Promise<void> {
    this.#snapshotting ??= (async () => {
      const seq = this.#lastSeq;
      try {
        await saveSnapshot(this.#dir, this.#index, seq);
        this.#snapshotSeq = seq;
        this.#sinceSnapshot = 0;
      } catch (err) {
        this.#o.log.error({ err, dir: this.#dir }, "snapshot failed; the next one retries");
      }
    })().finally(() => {
      this.#snapshotting = undefined;
    });
    return this.#snapshotting;
  }

  /** Warns when the log no longer holds the entries after this replica's snapshot (they aged out). */
  async #checkRetention(): Promise<void> {
    const state = await this.#o.writeLog.state();
    if (state.messages > 0 && state.firstSeq > this.#lastSeq + 1 && this.#lastSeq > 0) {
      this.#o.log.error(
        { key: this.key, snapshotSeq: this.#lastSeq, logStartsAt: state.firstSeq },
        "the write log no longer holds every entry after this replica's snapshot: writes in between are missing; rebuild the replica",
      );
    }
  }
}

function indexOptions(spec: IndexSpec) {
  return {
    dimension: spec.dimension,
    ...(spec.M !== undefined && { M: spec.M }),
    ...(spec.efConstruction !== undefined && { efConstruction: spec.efConstruction }),
    ...(spec.efSearch !== undefined && { efSearch: spec.efSearch }),
    ...(spec.initialCapacity !== undefined && { initialCapacity: spec.initialCapacity }),
  };
}
