import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf, lastSequenceOn } from "../../nats/index.js";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import type { LogHead } from "../contract/storage.js";
import type { Logger } from "../observe/logger.js";

/** Idle heartbeat the watch asks the server for; a silent watch is noticed after about two missed ones. */
const HEARTBEAT_MS = 1_000;
/** Life of one pull request of the watch before the client renews it. */
const EXPIRES_MS = 5_000;
/** Pause before a watch that ended on its own is opened again. */
const REOPEN_MS = 1_000;
/** Consumer notifications after which the watch may have missed writes. */
const PROBLEMS = new Set(["heartbeats_missed", "consumer_not_found", "stream_not_found", "consumer_deleted", "no_responders", "reset", "exceeded_limits"]);

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
 * pause. A watch that goes silent without any of those signals is noticed
 * after about two missed heartbeats (HEARTBEAT_MS each). A failed fallback
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
  readonly #log: Pick<Logger, "info" | "warn"> | undefined;
  #seq = 0;
  /** Newest sequence per subject, from the watch or one read; only while the watch has run without a gap. */
  readonly #bySubject = new Map<string, number>();
  /** Counts the watch's openings: a read that began before a reopen is not kept. */
  #generation = 0;
  #healthy = false;
  #connected = true;
  #stopped = false;
  #consumer: Consumer | undefined;
  #messages: ConsumerMessages | undefined;
  #connection: (AsyncIterable<{ type: string }> & { stop?(): void }) | undefined;
  #reopen: TimerHandle | undefined;
  readonly #clock: Clock;

  constructor(nc: NatsConnection, stream: string, clock: Clock, options: { log?: Pick<Logger, "info" | "warn"> } = {}) {
    this.#nc = nc;
    this.#stream = stream;
    this.#clock = clock;
    this.#log = options.log;
  }

  /** Reads the stream's last sequence and opens the watch (the stream must exist). */
  async start(): Promise<void> {
    this.#watchConnection();
    await this.#open();
  }

  /** Whether `current()` answers from memory (true) or reads the stream (false). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** The newest sequence: from memory while the watch is healthy, else read from the stream. */
  async current(): Promise<number> {
    if (this.#healthy) return this.#seq;
    return this.#raise(await readLastSeq(this.#nc, this.#stream));
  }

  /** The newest sequence on a subject: from memory while the watch is healthy and has it, else read from the stream. */
  async currentOn(subject: string): Promise<number> {
    const known = this.#bySubject.get(subject);
    if (this.#healthy && known !== undefined) return known;
    const generation = this.#generation;
    const read = await lastSequenceOn(this.#nc, this.#stream, subject);
    if (generation === this.#generation) this.#raiseOn(subject, read);
    return Math.max(read, this.#bySubject.get(subject) ?? 0);
  }

  /** Closes the watch and deletes its consumer (best effort). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#healthy = false;
    if (this.#reopen !== undefined) this.#clock.clearTimeout(this.#reopen);
    this.#connection?.stop?.();
    await this.#messages?.close();
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
      expires: EXPIRES_MS,
      idle_heartbeat: HEARTBEAT_MS,
      callback: (m: JsMsg) => {
        this.#raise(m.seq);
        this.#raiseOn(m.subject, m.seq);
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
    this.#reopen = this.#clock.setTimeout(() => {
      this.#open().catch((err: unknown) => {
        this.#log?.warn({ err }, `the watch of ${this.#stream} could not be reopened`);
        this.#scheduleReopen();
      });
    }, REOPEN_MS);
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
    if (healthy) this.#log?.info({ stream: this.#stream, seq: this.#seq }, "stream watch caught up");
    else this.#log?.warn({ stream: this.#stream, reason: why }, "stream watch unhealthy: reading the stream per call until it recovers");
  }

  #raise(seq: number): number {
    if (seq > this.#seq) this.#seq = seq;
    return this.#seq;
  }

  #raiseOn(subject: string, seq: number): void {
    if (seq > (this.#bySubject.get(subject) ?? 0)) this.#bySubject.set(subject, seq);
  }
}
