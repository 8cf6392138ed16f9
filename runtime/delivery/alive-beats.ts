import { headers, type NatsConnection } from "@nats-io/transport-node";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import { ALIVE_BEAT_MS, H_ALIVE } from "./wire.js";

/** One ask being worked on: where its beats go, since when, and until when anyone waits for them (its deadline). */
export interface Beating {
  readonly reply: string;
  readonly since: number;
  readonly until: number;
}

/**
 * The responder's side of the liveness beat (wire.ts): one timer for all the
 * asks a node is working on, so an ask answered within a beat costs a set
 * insert and delete, and nothing is sent for it. A handler that never
 * answers beats only until the ask's deadline: its caller has gone by then.
 */
export class AliveBeats {
  readonly #nc: NatsConnection;
  readonly #clock: Clock;
  readonly #open = new Set<Beating>();
  readonly #headers = headers();
  #timer: TimerHandle | undefined;

  constructor(nc: NatsConnection, clock: Clock) {
    this.#nc = nc;
    this.#clock = clock;
    this.#headers.set(H_ALIVE, "1");
  }

  begin(reply: string, deadline: number): Beating {
    const b = { reply, since: this.#clock.now(), until: deadline };
    this.#open.add(b);
    this.#timer ??= this.#clock.setTimeout(() => this.#beat(), ALIVE_BEAT_MS);
    return b;
  }

  end(b: Beating): void {
    this.#open.delete(b);
  }

  close(): void {
    this.#open.clear();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #beat(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    const due = now - ALIVE_BEAT_MS;
    for (const b of this.#open) {
      if (b.until <= now) {
        this.#open.delete(b);
        continue;
      }
      if (b.since > due) continue;
      try {
        this.#nc.publish(b.reply, undefined, { headers: this.#headers });
      } catch {
        // the connection is closing: the caller hears of it from its own side
      }
    }
    if (this.#open.size > 0) this.#timer = this.#clock.setTimeout(() => this.#beat(), ALIVE_BEAT_MS);
  }
}
