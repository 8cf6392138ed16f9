/**
 * Time as the generator sees it: supervisors' `Clock`, read for latencies.
 * The real one is `monotonicClock` (`performance.now()`: monotonic, with
 * fractions of a millisecond, where `systemClock`'s wall-clock `Date.now()`
 * may step and rounds to whole milliseconds); tests inject a virtual clock so
 * the arithmetic of a run is exact and nothing sleeps. Only the type comes
 * from supervisors/: the load generator still loads nothing of the project
 * at run time.
 */
import type { Clock } from "../supervisors/index.js";

export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
