/**
 * A concurrency limit that follows latency (the gradient algorithm of
 * Netflix's concurrency-limits). A short-term average of response times is
 * compared with a long-term one: while they agree, the limit grows by about
 * its square root; when responses slow down because work is queueing behind
 * the limit, it shrinks in proportion. So the edge admits about as much work
 * as the system can do without queueing, whatever the machine, and the rest
 * is refused at once with a retry hint instead of waiting in a queue.
 */
export interface AdaptiveLimitOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** How much slower than the long-term average responses may get before the limit shrinks. */
  tolerance: number;
}

export class AdaptiveLimit {
  readonly #o: AdaptiveLimitOptions;
  #limit: number;
  #inFlight = 0;
  #shortRtt = 0;
  #longRtt = 0;

  constructor(options: AdaptiveLimitOptions) {
    this.#o = options;
    this.#limit = options.initialLimit;
  }

  get limit(): number {
    return Math.floor(this.#limit);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot, or answers false when the limit is reached. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.limit) return false;
    this.#inFlight++;
    return true;
  }

  /** Gives the slot back with the request's response time. */
  release(rttMs: number): void {
    const inFlight = this.#inFlight--;
    const rtt = Math.max(0.01, rttMs);
    this.#shortRtt = this.#shortRtt === 0 ? rtt : this.#shortRtt + (rtt - this.#shortRtt) / 10;
    this.#longRtt = this.#longRtt === 0 ? rtt : this.#longRtt + (rtt - this.#longRtt) / 500;
    // When load has shifted for good, let the long-term average catch up rather than starve the limit.
    if (this.#longRtt / this.#shortRtt > 2) this.#longRtt *= 0.95;
    // An application that does not use its limit says nothing about whether a larger one would queue.
    if (inFlight < this.#limit / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (this.#o.tolerance * this.#longRtt) / this.#shortRtt));
    const next = this.#limit * gradient + Math.sqrt(this.#limit);
    this.#limit = Math.max(this.#o.minLimit, Math.min(this.#o.maxLimit, 0.8 * this.#limit + 0.2 * next));
  }

  /** A retry hint for a refused request: about one short-term response time. */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(this.#shortRtt));
  }
}
