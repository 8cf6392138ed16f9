import { systemClock, type Clock } from "../../runtime/index.js";

/**
 * Token buckets, one per client (API key, else IP): each holds up to
 * `capacity` tokens and gains `refillPerSecond`; a request takes one. The
 * clock is injected so tests step time instead of sleeping. The table is
 * bounded: past `maxClients` the least recently seen client is forgotten
 * (which at worst hands it a full bucket again).
 */
export interface RateLimitOptions {
  capacity: number;
  refillPerSecond: number;
  maxClients?: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #maxClients: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions, clock: Clock = systemClock) {
    if (!(options.capacity >= 1) || !(options.refillPerSecond > 0)) {
      throw new RangeError(`rate limit needs capacity >= 1 and refillPerSecond > 0, got ${options.capacity} and ${options.refillPerSecond}`);
    }
    this.#capacity = options.capacity;
    this.#perMs = options.refillPerSecond / 1000;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#clock = clock;
  }

  /** Takes a token for `client`, or says how long until one is there. */
  take(client: string): Admission {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(client);
    let tokens = this.#capacity;
    if (bucket !== undefined) {
      tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
      this.#buckets.delete(client); // re-inserted below: Map order is recency order
    }
    if (tokens >= 1) {
      this.#remember(client, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.#remember(client, { tokens, at: now });
    return { ok: false, retryAfterMs: Math.ceil((1 - tokens) / this.#perMs) };
  }

  get clients(): number {
    return this.#buckets.size;
  }

  #remember(client: string, bucket: Bucket): void {
    this.#buckets.set(client, bucket);
    if (this.#buckets.size > this.#maxClients) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }
}
