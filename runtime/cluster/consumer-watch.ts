import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock, TimerHandle } from "../../supervisors/index.js";

/** Idle heartbeat a watch asks the server for; a silent watch is noticed after about two missed ones. */
export const WATCH_HEARTBEAT_MS = 1_000;
/** Life of one pull request of a watch before the client renews it. */
export const WATCH_EXPIRES_MS = 5_000;
/** Pause before a watch that ended on its own is opened again. */
const REOPEN_MS = 1_000;
/** Consumer notifications after which a watch may have missed messages. */
const PROBLEMS = new Set(["heartbeats_missed", "consumer_not_found", "stream_not_found", "consumer_deleted", "no_responders", "reset", "exceeded_limits"]);

export interface WatchEvents {
  /** The watch has caught up: nothing it should have seen is missing. */
  caughtUp(): void;
  /** It may have missed messages (why: the connection's or the consumer's notification). */
  lost(why: string): void;
  /** A reopening failed; it is tried again after a pause. */
  reopenFailed(err: unknown): void;
}

/**
 * Whether an ordered consumer kept in memory by a watcher (a stream's head,
 * a bucket's keys) may have missed messages, and its reopening when it ends.
 * It is caught up from `caughtUp()` (the watcher saw a message with nothing
 * pending after it) or a server heartbeat (sent only when nothing is left to
 * deliver), and lost from a disconnect, a stale connection or a consumer
 * notification that messages may have been missed, until it is caught up
 * again; a connection that is down cannot catch up. The client recreates an
 * ordered consumer itself after the sequence it last saw; one that ends for
 * good is opened again by `open` after a pause.
 */
export class ConsumerWatch {
  readonly #nc: NatsConnection;
  readonly #clock: Clock;
  readonly #open: () => Promise<void>;
  readonly #events: WatchEvents;
  #caughtUp = false;
  #connected = true;
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  #connection: (AsyncIterable<{ type: string }> & { stop?(): void }) | undefined;
  #reopen: TimerHandle | undefined;

  /** `open` makes the consumer and hands its messages to `follow`. */
  constructor(nc: NatsConnection, clock: Clock, open: () => Promise<void>, events: WatchEvents) {
    this.#nc = nc;
    this.#clock = clock;
    this.#open = open;
    this.#events = events;
  }

  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Follows the connection's status, then opens the consumer. */
  async start(): Promise<void> {
    this.#watchConnection();
    await this.#open();
  }

  /** The messages of a consumer just opened; false when the watch was stopped meanwhile (they are closed). */
  async follow(messages: ConsumerMessages): Promise<boolean> {
    if (this.#stopped) {
      await messages.close();
      return false;
    }
    this.#messages = messages;
    void this.#watchConsumer(messages);
    void messages.closed().then((err) => {
      if (this.#stopped || messages !== this.#messages) return;
      this.set(false, `watch ended${err ? `: ${err.message}` : ""}`);
      this.#scheduleReopen();
    });
    return true;
  }

  set(caughtUp: boolean, why = ""): void {
    if (this.#stopped || caughtUp === this.#caughtUp || (caughtUp && !this.#connected)) return;
    this.#caughtUp = caughtUp;
    if (caughtUp) this.#events.caughtUp();
    else this.#events.lost(why);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#caughtUp = false;
    if (this.#reopen !== undefined) this.#clock.clearTimeout(this.#reopen);
    this.#connection?.stop?.();
    await this.#messages?.close();
  }

  #scheduleReopen(): void {
    if (this.#stopped || this.#nc.isClosed()) return;
    this.#reopen = this.#clock.setTimeout(() => {
      this.#open().catch((err: unknown) => {
        this.#events.reopenFailed(err);
        this.#scheduleReopen();
      });
    }, REOPEN_MS);
  }

  async #watchConsumer(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const n of messages.status()) {
        if (messages !== this.#messages) return;
        if (n.type === "heartbeat") this.set(true);
        else if (PROBLEMS.has(n.type)) this.set(false, n.type);
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
            this.set(false, s.type);
          } else if (s.type === "reconnect") this.#connected = true;
        }
      } catch {
        // the connection closed
      }
    })();
  }
}
