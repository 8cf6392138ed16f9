/**
 * Exponential backoff with jitter before a restart. The k-th restart inside
 * the intensity window waits min(maxMs, initialMs * multiplier^(k-1)),
 * scaled by a random factor in [1 - jitter, 1 + jitter) and rounded to
 * whole milliseconds.
 */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Between 0 and 1. */
  jitter: number;
}

export const defaultBackoff: Backoff = { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 0.2 };

/** The delay before the `attempt`-th restart (1-based); `random` returns values in [0, 1). */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (attempt - 1));
  return Math.round(base * (1 + backoff.jitter * (2 * random() - 1)));
}
