import type { Clock } from "../../supervisors/index.js";

/** Milliseconds from now to `deadline` on `clock`: 0 once it has passed, Infinity for none. */
export function remainingMs(clock: Clock, deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - clock.now());
}

/** Resolves after `ms` on `clock` (backoff between attempts). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
