/** At most `maxRestarts` restarts within any `withinMs` window; one more escalates. */
export interface Intensity {
  maxRestarts: number;
  withinMs: number;
}

export const defaultIntensity: Intensity = { maxRestarts: 5, withinMs: 10_000 };

/** The restart times (clock.now() values) still inside the sliding window that ends at `now`. */
export function recentRestarts(times: readonly number[], now: number, intensity: Intensity): number[] {
  return times.filter((time) => now - time < intensity.withinMs);
}
