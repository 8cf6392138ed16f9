import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetStreamOf } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { KeyView } from "../contract/storage.js";
import { ConsumerWatch, WATCH_EXPIRES_MS, WATCH_HEARTBEAT_MS } from "./consumer-watch.js";

type Warn = (msg: string, fields: Record<string, unknown>) => void;

/** How long opening a view waits for it to be complete; past that it answers undefined until it is. */
const START_WAIT_MS = 5_000;

/**
 * The keys of one KV bucket, kept in memory by an ordered consumer that
 * reads every key's newest entry and then each write, headers only (no
 * value crosses the wire). `has(key)` answers with no round trip while the
 * view is complete: from the moment the consumer has nothing left to
 * deliver (a message with nothing pending after it, a server heartbeat, or
 * a bucket that was empty when the consumer was made) until the watch may
 * have missed writes (consumer-watch.ts); meanwhile it answers undefined,
 * and the caller asks the bucket. A watch that ends is opened again after a
 * pause, from the start. Expiry by the bucket's max age sends nothing, so an
 * expired key may still read as present: a view is for skipping reads of
 * keys that are surely absent, never for trusting one that is present.
 */
export class BucketKeyView implements KeyView {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #watch: ConsumerWatch;
  readonly #keys = new Set<string>();
  #onComplete: (() => void) | undefined;

  /** `bucket`: the bucket's full name, as its stream is `KV_<bucket>`. */
  constructor(nc: NatsConnection, bucket: string, clock: Clock, warn?: Warn) {
    this.#nc = nc;
    this.#stream = `KV_${bucket}`;
    this.#prefix = `$KV.${bucket}.`;
    this.#clock = clock;
    this.#watch = new ConsumerWatch(nc, clock, () => this.#open(), {
      caughtUp: () => this.#onComplete?.(),
      lost: (reason) => warn?.("key watch incomplete: reading the bucket per lookup until it recovers", { stream: this.#stream, reason }),
      reopenFailed: (err) => warn?.(`the key watch of ${this.#stream} could not be reopened`, { error: (err as Error).message }),
    });
  }

  /** Opens the watch and waits (up to START_WAIT_MS) for the view to be complete: a new reader's first lookups skip reads too. */
  async start(): Promise<void> {
    await this.#watch.start();
    if (this.#watch.caughtUp) return;
    await new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, START_WAIT_MS);
      this.#onComplete = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    });
    this.#onComplete = undefined;
  }

  has(key: string): boolean | undefined {
    return this.#watch.caughtUp ? this.#keys.has(key) : undefined;
  }

  wrote(key: string): void {
    this.#keys.add(key);
  }

  stop(): Promise<void> {
    return this.#watch.stop();
  }

  async #open(): Promise<void> {
    this.#keys.clear();
    const consumer = await jetStreamOf(this.#nc).consumers.get(this.#stream, { headers_only: true, deliver_policy: DeliverPolicy.LastPerSubject });
    // What the consumer had to deliver when it was made: nothing means the view is complete as it is.
    const empty = (await consumer.info(true)).num_pending === 0;
    const messages = await consumer.consume({
      expires: WATCH_EXPIRES_MS,
      idle_heartbeat: WATCH_HEARTBEAT_MS,
      callback: (m: JsMsg) => {
        const key = m.subject.slice(this.#prefix.length);
        const op = m.headers?.get("KV-Operation");
        if (op === "DEL" || op === "PURGE") this.#keys.delete(key);
        else this.#keys.add(key);
        if (m.info.pending === 0) this.#watch.set(true);
      },
    });
    if ((await this.#watch.follow(messages)) && empty) this.#watch.set(true);
  }
}
