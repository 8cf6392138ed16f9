import type { Clock, TimerHandle } from "../../supervisors/index.js";

/**
 * An AbortSignal for one piece of work: it aborts when its time is up or when
 * a parent signal aborts, and `dispose()` (once the work is done) clears its
 * timer and its listeners on the parents.
 *
 * `AbortSignal.timeout` and `AbortSignal.any` keep their signal, and every
 * listener on it with all that those reach, until the timer fires: under load
 * that is every request of the last deadline's worth, finished or not.
 */
export class ScopedSignal {
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #timer: TimerHandle | undefined;
  readonly #parents: AbortSignal[];
  readonly #onParentAbort = (event: Event) => this.#controller.abort((event.target as AbortSignal).reason);

  /** `timeoutMs` of Infinity sets no timer; `reason` makes the abort reason when the time is up. */
  constructor(clock: Clock, timeoutMs: number, reason: () => unknown, parents: AbortSignal[] = []) {
    this.#clock = clock;
    this.#parents = parents;
    for (const parent of parents) {
      if (parent.aborted) {
        this.#controller.abort(parent.reason);
        return;
      }
      parent.addEventListener("abort", this.#onParentAbort, { once: true });
    }
    if (Number.isFinite(timeoutMs)) {
      this.#timer = clock.setTimeout(() => this.#controller.abort(reason()), Math.max(0, timeoutMs));
      // A pending deadline alone must not keep the process alive.
      (this.#timer as { unref?: () => void } | undefined)?.unref?.();
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The work is over: no timer, no listeners left; the signal does not abort. */
  dispose(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    for (const parent of this.#parents) parent.removeEventListener("abort", this.#onParentAbort);
  }
}
