import { DeliverPolicy, type Consumer, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf, lastSequenceOn } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { LogHead } from "../contract/storage.js";
import type { Logger } from "../observe/logger.js";
import { ConsumerWatch, WATCH_EXPIRES_MS, WATCH_HEARTBEAT_MS } from "./consumer-watch.js";

/** The last sequence of a stream, read from the server (one stream-info request); 0 when there is no stream yet. */
async function readLastSeq(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetStreamManagerOf(nc);
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw jetStreamError(err, `cannot read where ${stream} stands`);
  }
}

/**
 * A stream's newest sequence, kept in memory: `start()` reads it once, then
 * an ordered consumer (headers only, so no entry's body crosses the wire)
 * watches from that sequence on, and every delivered message raises the
 * head to its sequence. `current()` answers with no round trip.
 *
 * Failure: while the watch is not known to be healthy, `current()` falls
 * back to a stream-info read per call, so a broken watch never answers a
 * stale sequence for longer than it takes to notice it. It is unhealthy from
 * a disconnect, a stale connection or a consumer notification that messages
 * may have been missed (missed heartbeats, consumer or stream gone, consumer
 * reset, no responders) until it is caught up again: a server heartbeat
 * (sent only when nothing is left to deliver) or a message with nothing
 * pending after it. The client recreates the ordered consumer itself after
 * the sequence it last saw; a watch that ends for good is reopened after a
 * pause (consumer-watch.ts). A watch that goes silent without any of those
 * signals is noticed after about two missed heartbeats (WATCH_HEARTBEAT_MS each). A failed fallback
 * read throws UNAVAILABLE (retryable) rather than guessing.
 *
 * Per subject: the watch also keeps each subject's newest sequence it has
 * seen. A subject it has seen nothing on since it opened is read from the
 * stream once (its entries may all be older than the watch); a reopened
 * watch starts that over, since it skips what came while it was closed.
 */
export class StreamHead implements LogHead {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #watch: ConsumerWatch;
  #seq = 0;
  /** Newest sequence per subject, from the watch or one read; only while the watch has run without a gap. */
  readonly #bySubject = new Map<string, number>();
  /** Counts the watch's openings: a read that began before a reopen is not kept. */
  #generation = 0;
  #consumer: Consumer | undefined;

  constructor(nc: NatsConnection, stream: string, clock: Clock, options: { log?: Pick<Logger, "info" | "warn"> } = {}) {
    this.#nc = nc;
    this.#stream = stream;
    const { log } = options;
    this.#watch = new ConsumerWatch(nc, clock, () => this.#open(), {
      caughtUp: () => log?.info({ stream, seq: this.#seq }, "stream watch caught up"),
      lost: (reason) => log?.warn({ stream, reason }, "stream watch unhealthy: reading the stream per call until it recovers"),
      reopenFailed: (err) => log?.warn({ err }, `the watch of ${stream} could not be reopened`),
    });
  }

  /** Reads the stream's last sequence and opens the watch (the stream must exist). */
  async start(): Promise<void> {
    await this.#watch.start();
  }

  /** Whether `current()` answers from memory (true) or reads the stream (false). */
  get healthy(): boolean {
    return this.#watch.caughtUp;
  }

  /** The newest sequence: from memory while the watch is healthy, else read from the stream. */
  async current(): Promise<number> {
    if (this.healthy) return this.#seq;
    return this.#raise(await readLastSeq(this.#nc, this.#stream));
  }

  /** The newest sequence on a subject: from memory while the watch is healthy and has it, else read from the stream. */
  async currentOn(subject: string): Promise<number> {
    const known = this.#bySubject.get(subject);
    if (this.healthy && known !== undefined) return known;
    const generation = this.#generation;
    const read = await lastSequenceOn(this.#nc, this.#stream, subject);
    if (generation === this.#generation) this.#raiseOn(subject, read);
    return Math.max(read, this.#bySubject.get(subject) ?? 0);
  }

  /** Closes the watch and deletes its consumer (best effort). */
  async stop(): Promise<void> {
    if (this.#watch.stopped) return;
    await this.#watch.stop();
    if (this.#consumer && !this.#nc.isClosed()) await this.#consumer.delete().catch(() => false);
  }

  async #open(): Promise<void> {
    // The last sequence now, then a watch from that very sequence: nothing stored after the read is missed,
    // and that message, redelivered with nothing pending after it, confirms the watch is caught up.
    this.#generation++;
    this.#bySubject.clear();
    const last = this.#raise(await readLastSeq(this.#nc, this.#stream));
    const consumer = await jetStreamOf(this.#nc).consumers.get(this.#stream, {
      headers_only: true,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, last),
    });
    const messages = await consumer.consume({
      expires: WATCH_EXPIRES_MS,
      idle_heartbeat: WATCH_HEARTBEAT_MS,
      callback: (m: JsMsg) => {
        this.#raise(m.seq);
        this.#raiseOn(m.subject, m.seq);
        if (m.info.pending === 0) this.#watch.set(true);
      },
    });
    if (!(await this.#watch.follow(messages))) {
      await consumer.delete().catch(() => false);
      return;
    }
    this.#consumer = consumer;
    this.#watch.set(true);
  }

  #raise(seq: number): number {
    if (seq > this.#seq) this.#seq = seq;
    return this.#seq;
  }

  #raiseOn(subject: string, seq: number): void {
    if (seq > (this.#bySubject.get(subject) ?? 0)) this.#bySubject.set(subject, seq);
  }
}
