/**
 * The shard write log: one JetStream stream per namespace (`<ns>_shardlog`),
 * one subject per shard (`<ns>.shardlog.<index>.<shard>`). Ingest appends
 * writes; every replica of the shard applies them in stream order through
 * its own durable consumer. This file is the log's whole format.
 */
import { z } from "zod";
import type { Log, LogSpec, Storage } from "../../runtime/index.js";
import type { Chunk } from "./types.js";

/** One entry of a shard's log. Each is idempotent: applying it twice in a row changes nothing. */
export type ShardWrite = { op: "upsert"; chunk: Chunk } | { op: "delete"; chunkId: string } | { op: "deleteDocument"; docId: string };

/** A log entry's shape, checked before it reaches a replica; the index checks the chunk itself when applying it. */
export const ShardWriteSchema: z.ZodType<ShardWrite> = z.discriminatedUnion("op", [
  z.object({ op: z.literal("upsert"), chunk: z.custom<Chunk>((c) => typeof c === "object" && c !== null && !Array.isArray(c), "must be a chunk") }),
  z.object({ op: z.literal("delete"), chunkId: z.string().min(1) }),
  z.object({ op: z.literal("deleteDocument"), docId: z.string().min(1) }),
]);

export const SHARD_LOG: LogSpec = { name: "shardlog", description: "Colmena shard write log: chunk upserts and deletes, one subject per shard" };

/** The write log (created if missing). */
export const openShardLog = (storage: Storage): Promise<Log> => storage.log(SHARD_LOG);

/** The subject of one shard's writes. */
export const shardLogSubject = (log: Log, index: string, shard: number): string => log.subject(index, String(shard));

/** The shard of a document: FNV-1a of its id modulo the shard count, the same on every node. */
export function shardOf(docId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < docId.length; i++) h = Math.imul(h ^ docId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** A chunk id derived from its document and position, so a re-ingest overwrites the same ids. */
export const chunkId = (docId: string, ordinal: number): string => `${docId}#${ordinal}`;

/** Pipelined publishes of upserts, at most this many awaiting their ack. */
const WINDOW = 128;

/**
 * Appends writes to shard logs and resolves once every one is stored (the
 * stream's ack), with their sequences. Order is kept where it matters: a
 * delete is stored before anything after it is sent, while runs of upserts
 * (distinct chunks commute) are pipelined. With `msgIdPrefix`, entry i gets
 * `Nats-Msg-Id: <prefix>:<i>`, so republishing the same writes within the
 * stream's duplicate window stores nothing twice.
 */
export class ShardLogWriter {
  readonly #log: Log;

  constructor(log: Log) {
    this.#log = log;
  }

  async append(index: string, shard: number, writes: readonly ShardWrite[], msgIdPrefix?: string): Promise<number[]> {
    const subject = shardLogSubject(this.#log, index, shard);
    const seqs = new Array<number>(writes.length);
    let inFlight: Promise<void>[] = [];
    const settle = async () => {
      await Promise.all(inFlight);
      inFlight = [];
    };
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      if (write.op !== "upsert") await settle();
      const sent = this.#log.append(subject, write, msgIdPrefix === undefined ? {} : { msgId: `${msgIdPrefix}:${i}` }).then((seq) => {
        seqs[i] = seq;
      });
      inFlight.push(sent);
      if (write.op !== "upsert" || inFlight.length >= WINDOW) await settle();
    }
    await settle();
    return seqs;
  }
}
