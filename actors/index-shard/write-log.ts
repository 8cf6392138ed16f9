/**
 * The shard write log: one JetStream stream per namespace (`<ns>_shardlog`),
 * one subject per shard (`<ns>.shardlog.<index>.<shard>`). Ingest appends
 * writes; every replica of the shard applies them in stream order through
 * its own durable consumer. This file is the log's whole format.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Codec, DEFAULT_MAX_PAYLOAD } from "../../nats/index.js";
import { ensureStream, jetStreamError, jetStreamOf, type StreamSpec } from "../../nats/index.js";
import { subjectToken, type Subjects } from "../../runtime/index.js";
import { invalid } from "../../runtime/index.js";
import type { Chunk } from "./types.js";

/** One entry of a shard's log. Each is idempotent: applying it twice in a row changes nothing. */
export type ShardWrite = { op: "upsert"; chunk: Chunk } | { op: "delete"; chunkId: string } | { op: "deleteDocument"; docId: string };

export const shardLogStream = (subjects: Subjects): string => subjects.bucket("shardlog");

export const shardLogSubject = (subjects: Subjects, index: string, shard: number): string =>
  `${subjects.prefix}.shardlog.${subjectToken(index, "index name")}.${shard}`;

export function shardLogStreamSpec(subjects: Subjects, options: { maxAgeMs?: number; maxBytes?: number; duplicateWindowMs?: number } = {}): StreamSpec {
  return {
    name: shardLogStream(subjects),
    subjects: [`${subjects.prefix}.shardlog.>`],
    storage: "file",
    retention: "limits",
    description: "Colmena shard write log: chunk upserts and deletes, one subject per shard",
    ...options,
  };
}

/** Creates the write-log stream, or brings its settings up to date. */
export async function ensureShardLog(nc: NatsConnection, subjects: Subjects): Promise<void> {
  await ensureStream(nc, shardLogStreamSpec(subjects));
}

/** The shard of a document: FNV-1a of its id modulo the shard count, the same on every node. */
export function shardOf(docId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < docId.length; i++) h = Math.imul(h ^ docId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** A chunk id derived from its document and position, so a re-ingest overwrites the same ids. */
export const chunkId = (docId: string, ordinal: number): string => `${docId}#${ordinal}`;

/** Checks a decoded log entry's shape; the index checks the chunk itself when applying it. */
export function parseShardWrite(value: unknown): ShardWrite {
  const w = value as Record<string, unknown> | null;
  if (typeof w !== "object" || w === null) throw invalid("a shard write must be a map");
  if (w.op === "upsert" && typeof w.chunk === "object" && w.chunk !== null) return { op: "upsert", chunk: w.chunk as Chunk };
  if (w.op === "delete" && typeof w.chunkId === "string" && w.chunkId.length > 0) return { op: "delete", chunkId: w.chunkId };
  if (w.op === "deleteDocument" && typeof w.docId === "string" && w.docId.length > 0) return { op: "deleteDocument", docId: w.docId };
  throw invalid(`unknown shard write ${JSON.stringify(w.op)}`);
}

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
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #codec: Codec;

  constructor(nc: NatsConnection, subjects: Subjects) {
    this.#nc = nc;
    this.#subjects = subjects;
    this.#codec = new Codec(Math.min(DEFAULT_MAX_PAYLOAD, nc.info?.max_payload ?? Infinity));
  }

  async append(index: string, shard: number, writes: readonly ShardWrite[], msgIdPrefix?: string): Promise<number[]> {
    const js = jetStreamOf(this.#nc);
    const subject = shardLogSubject(this.#subjects, index, shard);
    const seqs = new Array<number>(writes.length);
    let inFlight: Promise<void>[] = [];
    const settle = async () => {
      await Promise.all(inFlight);
      inFlight = [];
    };
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      const data = this.#codec.encode(write);
      if (write.op !== "upsert") await settle();
      const sent = js
        .publish(subject, data, msgIdPrefix === undefined ? {} : { msgID: `${msgIdPrefix}:${i}` })
        .then((ack) => {
          seqs[i] = ack.seq;
        })
        .catch((err: unknown) => {
          throw jetStreamError(err, `shard write to ${subject} was not stored`);
        });
      inFlight.push(sent);
      if (write.op !== "upsert" || inFlight.length >= WINDOW) await settle();
    }
    await settle();
    return seqs;
  }
}
