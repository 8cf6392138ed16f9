import type { Clock, TimerHandle } from "../../supervisors/index.js";
import { ALIVE_BEAT_MS, ALIVE_SILENCE_MS } from "./wire.js";

/**
 * The caller's side of a stream's liveness beat (wire.ts): `onSilent` once
 * nothing (a frame or a beat) has come from the producer for
 * ALIVE_SILENCE_MS. A check that runs more than a beat late means this
 * node's own event loop stalled, so the silence starts afresh instead, as
 * for asks (requester.ts).
 */
export class SilenceWatch {
  readonly #clock: Clock;
  readonly #onSilent: (silentMs: number) => void;
  #heard: number;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, onSilent: (silentMs: number) => void) {
    this.#clock = clock;
    this.#onSilent = onSilent;
    this.#heard = clock.now();
    this.#schedule();
  }

  heard(): void {
    this.#heard = this.#clock.now();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const due = this.#clock.now() + ALIVE_BEAT_MS;
    this.#timer = this.#clock.setTimeout(() => {
      const now = this.#clock.now();
      if (now - due > ALIVE_BEAT_MS) this.#heard = now;
      else if (now - this.#heard > ALIVE_SILENCE_MS) {
        this.#timer = undefined;
        this.#onSilent(now - this.#heard);
        return;
      }
      this.#schedule();
    }, ALIVE_BEAT_MS);
  }
}
