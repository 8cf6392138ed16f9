/**
 * A concurrency limit that follows latency (the gradient algorithm of
 * Netflix's concurrency-limits). A short-term average of response times is
 * compared with the latency the node has when nothing queues: while they
 * agree, the limit grows by about its square root; when responses slow down
 * because work is queueing behind the limit, it shrinks in proportion. So the
 * edge admits about as much work as the system can do without queueing,
 * whatever the machine, and the rest is refused at once with a retry hint
 * instead of waiting in a queue.
 *
 * The no-queue latency is the lowest mean response time of the last few
 * windows (`baselineMs` in all). A slowly moving average would learn a
 * sustained overload's queueing delay as the new normal within a second or
 * two and let the limit grow back; a windowed minimum remembers the unloaded
 * latency for as long as the overload lasts, up to `baselineMs`. Once the
 * overload is over, fast responses let a cut limit grow back to the initial
 * one, even while the work in flight stays far below it.
 */
export interface AdaptiveLimitOptions {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** How much slower than the no-queue latency responses may get before the limit shrinks. */
  tolerance: number;
  /** How long the no-queue latency is remembered (default 30 s). */
  baselineMs?: number;
}

const WINDOWS = 10;
/** A window needs this many responses before its mean counts. */
const MIN_SAMPLES = 10;

export class AdaptiveLimit {
  readonly #o: AdaptiveLimitOptions;
  readonly #now: () => number;
  readonly #windowMs: number;
  #limit: number;
  #inFlight = 0;
  #shortRtt = 0;
  /** Means of the completed windows of the last `baselineMs`, oldest first. */
  #means: Array<{ mean: number; at: number }> = [];
  #windowStart: number;
  #windowSum = 0;
  #windowCount = 0;

  constructor(options: AdaptiveLimitOptions, now: () => number = () => performance.now()) {
    this.#o = options;
    this.#now = now;
    this.#windowMs = (options.baselineMs ?? 30_000) / WINDOWS;
    this.#limit = options.initialLimit;
    this.#windowStart = now();
  }

  get limit(): number {
    return Math.floor(this.#limit);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The response time the node has when nothing queues (ms), as remembered now; 0 before any response. */
  get baselineMs(): number {
    const current = this.#windowCount > 0 ? this.#windowSum / this.#windowCount : 0;
    const completed = this.#means.reduce((min, w) => Math.min(min, w.mean), Infinity);
    return this.#windowCount >= MIN_SAMPLES || completed === Infinity ? Math.min(completed, current) : completed;
  }

  /** Takes a slot, or answers false when the limit is reached. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.limit) return false;
    this.#inFlight++;
    return true;
  }

  /** Gives the slot back without a response time: a request its client left says nothing about how fast the node answers. */
  abandon(): void {
    this.#inFlight--;
  }

  /** Gives the slot back with the request's response time. */
  release(rttMs: number): void {
    const inFlight = this.#inFlight--;
    const rtt = Math.max(0.01, rttMs);
    this.#shortRtt = this.#shortRtt === 0 ? rtt : this.#shortRtt + (rtt - this.#shortRtt) / 10;
    this.#record(rtt);
    const gradient = Math.max(0.5, Math.min(1, (this.#o.tolerance * this.baselineMs) / this.#shortRtt));
    if (inFlight < this.#limit / 2) {
      // Work that does not use the limit says nothing about whether a larger one would queue; but while it is
      // fast, a limit cut by an overload grows back (by about one per `limit` responses) to the initial one,
      // so a short burst after the overload is not refused.
      if (gradient === 1 && this.#limit < this.#o.initialLimit) this.#limit = Math.min(this.#o.initialLimit, this.#limit + 1 / this.#limit);
      return;
    }
    const next = this.#limit * gradient + Math.sqrt(this.#limit);
    this.#limit = Math.max(this.#o.minLimit, Math.min(this.#o.maxLimit, 0.8 * this.#limit + 0.2 * next));
  }

  /** A retry hint for a refused request: about one short-term response time. */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(this.#shortRtt));
  }

  #record(rtt: number): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#windowCount >= MIN_SAMPLES) this.#means.push({ mean: this.#windowSum / this.#windowCount, at: now });
      this.#means = this.#means.filter((w) => now - w.at < this.#windowMs * WINDOWS);
      this.#windowStart = now;
      this.#windowSum = 0;
      this.#windowCount = 0;
    }
    this.#windowSum += rtt;
    this.#windowCount++;
  }
}
