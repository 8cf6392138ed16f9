import { systemClock, type Clock } from "../../runtime/index.js";

/**
 * Requests (or generated tokens) per minute per client, as a sliding-window counter: the count of
 * the current minute plus the previous minute's, weighted by how much of it
 * the sliding window still covers. Unlike a fixed window (which lets a
 * client spend two limits across a boundary) any 60 s holds about `limit`
 * requests, and unlike a token bucket there is no full burst on top of the
 * refill; it costs two numbers per client. The clock is injected so tests
 * step time instead of sleeping. The table is bounded: past `maxClients`
 * the least recently seen client is forgotten (which at worst hands it a
 * fresh window).
 */
export const WINDOW_MS = 60_000;

export type Admission = { ok: true; remaining: number; resetMs: number } | { ok: false; retryAfterMs: number };

interface Window {
  /** Start of the current window (a multiple of WINDOW_MS). */
  start: number;
  current: number;
  previous: number;
}

export class RateLimiter {
  readonly #maxClients: number;
  readonly #clock: Clock;
  readonly #windows = new Map<string, Window>();

  constructor(options: { maxClients?: number } = {}, clock: Clock = systemClock) {
    this.#maxClients = options.maxClients ?? 10_000;
    this.#clock = clock;
  }

  /** Counts a request of `client` against `limit` per minute, or says how long until one fits. */
  take(client: string, limit: number): Admission {
    return this.check(client, limit, true);
  }

  /** Whether one more unit fits under `limit`, counting it when `count`. */
  check(client: string, limit: number, count = false): Admission {
    const now = this.#clock.now();
    const w = this.#windowOf(client, now);
    const used = this.#used(w, now);
    if (used + 1 <= limit) {
      if (count) w.current += 1;
      return { ok: true, remaining: Math.max(0, Math.floor(limit - used - 1)), resetMs: w.start + WINDOW_MS - now };
    }
    return { ok: false, retryAfterMs: Math.max(1, this.#untilFits(w, limit, now)) };
  }

  /**
   * Counts `cost` units already spent (generated tokens) whether they fit or
   * not, and answers whether the client is still within `limit`.
   */
  charge(client: string, limit: number, cost: number): boolean {
    const now = this.#clock.now();
    const w = this.#windowOf(client, now);
    w.current += cost;
    return this.#used(w, now) <= limit;
  }

  #used(w: Window, now: number): number {
    return w.previous * (1 - (now - w.start) / WINDOW_MS) + w.current;
  }

  #windowOf(client: string, now: number): Window {
    const start = now - (now % WINDOW_MS);
    const known = this.#windows.get(client);
    let w: Window = { start, current: 0, previous: 0 };
    if (known !== undefined) {
      this.#windows.delete(client); // re-inserted below: Map order is recency order
      if (known.start === start) w = known;
      else if (known.start === start - WINDOW_MS) w = { start, current: 0, previous: known.current };
    }
    this.#remember(client, w);
    return w;
  }

  get clients(): number {
    return this.#windows.size;
  }

  /** When previous·weight + current + 1 first fits under the limit, the counts standing as they are. */
  #untilFits(w: Window, limit: number, now: number): number {
    const end = w.start + WINDOW_MS;
    if (w.current + 1 <= limit && w.previous > 0) {
      // previous · (1 − (t − start)/W) ≤ limit − current − 1
      const t = w.start + WINDOW_MS * (1 - (limit - w.current - 1) / w.previous);
      return Math.ceil(t - now);
    }
    // Next window: this one's count becomes the weighted previous.
    const t = end + (w.current > 0 ? WINDOW_MS * Math.max(0, 1 - (limit - 1) / w.current) : 0);
    return Math.ceil(t - now);
  }

  #remember(client: string, w: Window): void {
    this.#windows.set(client, w);
    if (this.#windows.size > this.#maxClients) {
      const oldest = this.#windows.keys().next().value;
      if (oldest !== undefined) this.#windows.delete(oldest);
    }
  }
}
