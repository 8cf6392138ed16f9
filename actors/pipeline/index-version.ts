import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf } from "../../nats/index.js";
import type { Subjects } from "../../runtime/index.js";
import type { Logger } from "../../runtime/index.js";
import { ensureShardLog, shardLogStream } from "../index-shard/index.js";

/** Idle heartbeat the watch asks the server for; a silent watch is noticed after about two missed ones. */
const HEARTBEAT_MS = 1_000;
/** Life of one pull request of the watch before the client renews it. */
const EXPIRES_MS = 5_000;
/** Pause before a watch that ended on its own is opened again. */
const REOPEN_MS = 1_000;
/** Consumer notifications after which the watch may have missed writes. */
const PROBLEMS = new Set(["heartbeats_missed", "consumer_not_found", "stream_not_found", "consumer_deleted", "no_responders", "reset", "exceeded_limits"]);

/** The last sequence of the shard write log, read from the server (one stream-info request); 0 when there is no log yet. */
export async function readIndexVersion(nc: NatsConnection, subjects: Subjects): Promise<number> {
  const jsm = await jetStreamManagerOf(nc);
  try {
    return (await jsm.streams.info(shardLogStream(subjects))).state.last_seq;
  } catch (err) {
    if (isNotFound(err)) return 0; // no write log yet: nothing was ever ingested
    throw jetStreamError(err, "cannot read the index version");
  }
}

/**
 * The index version a cached answer is valid for: the last sequence of the
 * shard write log. Every ingest or delete appends to it, so an answer cached
 * before a write is never served after it.
 *
 * The version is kept in memory and follows the log through a JetStream
 * ordered consumer (headers only, so no chunk crosses the wire): `start()`
 * reads the log's last sequence once, then watches from that sequence on, and
 * every delivered message raises the version to its stream sequence. A query
 * reads it with `current()` and no round trip.
 *
 * Semantics: the version now follows a write within the watch's propagation
 * delay (the server pushes each write to the watch as it stores it) instead
 * of being read per query. That is no weaker in practice: indexing is
 * asynchronous anyway, a write becomes searchable only once a shard replica
 * has applied it from the same log, which is later than the watch sees it. A
 * question asked in that window could already have been answered (and
 * cached) with the old index under a per-query read too.
 *
 * Failure: while the watch is not known to be healthy, `current()` falls
 * back to the per-query stream-info read, so a broken watch never serves a
 * stale version for longer than it takes to notice it. It is unhealthy from
 * a disconnect, a stale connection or a consumer notification that writes
 * may have been missed (missed heartbeats, consumer or stream gone, consumer
 * reset, no responders) until it is caught up again: a server heartbeat
 * (sent only when nothing is left to deliver) or a message with nothing
 * pending after it. The client recreates the ordered consumer itself after
 * the sequence it last saw; a watch that ends for good is reopened after a
 * pause. A watch that goes silent without any of those signals is noticed
 * after about two missed heartbeats (HEARTBEAT_MS each). A failed fallback
 * read throws UNAVAILABLE (retryable) rather than guessing.
 */
export class IndexVersion {
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #log: Pick<Logger, "info" | "warn"> | undefined;
  #version = 0;
  #healthy = false;
  #connected = true;
  #stopped = false;
  #consumer: Consumer | undefined;
  #messages: ConsumerMessages | undefined;
  #connection: (AsyncIterable<{ type: string }> & { stop?(): void }) | undefined;
  #reopen: NodeJS.Timeout | undefined;

  constructor(nc: NatsConnection, subjects: Subjects, options: { log?: Pick<Logger, "info" | "warn"> } = {}) {
    this.#nc = nc;
    this.#subjects = subjects;
    this.#log = options.log;
  }

  /** A started IndexVersion. */
  static async start(nc: NatsConnection, subjects: Subjects, options: { log?: Pick<Logger, "info" | "warn"> } = {}): Promise<IndexVersion> {
    const v = new IndexVersion(nc, subjects, options);
    await v.start();
    return v;
  }

  /** Creates the write log if it is missing, reads its last sequence and opens the watch. */
  async start(): Promise<void> {
    await ensureShardLog(this.#nc, this.#subjects);
    this.#watchConnection();
    await this.#open();
  }

  /** Whether `current()` answers from memory (true) or reads the stream (false). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** The current index version: from memory while the watch is healthy, else read from the stream. */
  async current(): Promise<number> {
    if (this.#healthy) return this.#version;
    return this.#raise(await readIndexVersion(this.#nc, this.#subjects));
  }

  /** Closes the watch and deletes its consumer (best effort). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#healthy = false;
    clearTimeout(this.#reopen);
    this.#connection?.stop?.();
    await this.#messages?.close();
    if (this.#consumer && !this.#nc.isClosed()) await this.#consumer.delete().catch(() => false);
  }

  async #open(): Promise<void> {
    // The last sequence now, then a watch from that very sequence: nothing stored after the read is missed,
    // and that message, redelivered with nothing pending after it, confirms the watch is caught up.
    const last = this.#raise(await readIndexVersion(this.#nc, this.#subjects));
    const consumer = await jetStreamOf(this.#nc).consumers.get(shardLogStream(this.#subjects), {
      headers_only: true,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, last),
    });
    const messages = await consumer.consume({
      expires: EXPIRES_MS,
      idle_heartbeat: HEARTBEAT_MS,
      callback: (m: JsMsg) => {
        this.#raise(m.seq);
        if (m.info.pending === 0) this.#setHealthy(true);
      },
    });
    if (this.#stopped) {
      await messages.close();
      await consumer.delete().catch(() => false);
      return;
    }
    this.#consumer = consumer;
    this.#messages = messages;
    void this.#watchConsumer(messages);
    void messages.closed().then((err) => {
      if (this.#stopped || messages !== this.#messages) return;
      this.#setHealthy(false, `watch ended${err ? `: ${err.message}` : ""}`);
      this.#scheduleReopen();
    });
    this.#setHealthy(true);
  }

  #scheduleReopen(): void {
    if (this.#stopped || this.#nc.isClosed()) return;
    this.#reopen = setTimeout(() => {
      this.#open().catch((err: unknown) => {
        this.#log?.warn({ err }, "index version watch could not be reopened");
        this.#scheduleReopen();
      });
    }, REOPEN_MS);
    this.#reopen.unref();
  }

  async #watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const n of messages.status()) {
        if (messages !== this.#messages) return;
        if (n.type === "heartbeat") this.#setHealthy(true);
        else if (PROBLEMS.has(n.type)) this.#setHealthy(false, n.type);
      }
    } catch {
      // the iterator ended with the consumer; closed() reports it
    }
  }

  #watchConnection(): void {
    const status = this.#nc.status() as AsyncIterable<{ type: string }> & { stop?(): void };
    this.#connection = status;
    void (async () => {
      try {
        for await (const s of status) {
          if (s.type === "disconnect" || s.type === "staleConnection") {
            this.#connected = false;
            this.#setHealthy(false, s.type);
          } else if (s.type === "reconnect") this.#connected = true;
        }
      } catch {
        // the connection closed
      }
    })();
  }

  #setHealthy(healthy: boolean, why?: string): void {
    if (this.#stopped || healthy === this.#healthy || (healthy && !this.#connected)) return;
    this.#healthy = healthy;
    if (healthy) this.#log?.info({ version: this.#version }, "index version watch caught up");
    else this.#log?.warn({ reason: why }, "index version watch unhealthy: reading the write log per query until it recovers");
  }

  #raise(seq: number): number {
    if (seq > this.#version) this.#version = seq;
    return this.#version;
  }
}
