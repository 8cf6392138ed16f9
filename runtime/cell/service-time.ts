/**
 * An activation's estimate of how long one message takes, behind the
 * `retryAfterMs` of a full mailbox and how often the loop asks whether its
 * time slice is spent. One message in 16 is timed, from its own start to its
 * answer (a stream: to its last chunk), so the clock is read twice per 16
 * messages rather than for each; the estimate is a moving average of those.
 */
export class ServiceTime {
  #ms = 1;
  #count = 0;

  /** The estimate, in ms. */
  get ms(): number {
    return this.#ms;
  }

  /** Whether the message about to start is one of the timed ones. */
  sampleNext(): boolean {
    return (++this.#count & 15) === 0;
  }

  record(startedAt: number, now: number): void {
    this.#ms = 0.8 * this.#ms + 0.2 * Math.max(0.01, now - startedAt);
  }

  /** When a sender refused now may try again: the queued work spread over the slots, within [1 ms, 5 s]. */
  retryAfterMs(queued: number, concurrency: number): number {
    return Math.min(5_000, Math.max(1, Math.ceil((queued * this.#ms) / concurrency)));
  }
}
