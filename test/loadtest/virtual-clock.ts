import type { Clock } from "../../loadtest/index.js";

/**
 * Discrete-event time for the generator's tests: `now()` moves only when the
 * next timer is due, and every promise chain settles before it does, so a
 * run's latencies come out exact and nothing sleeps for real.
 */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      const i = this.#timers.indexOf(timer);
      if (i >= 0) this.#timers.splice(i, 1);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(resolve, ms));
  }

  /** Advances time timer by timer until `done` settles; its value. */
  async run<T>(done: Promise<T>): Promise<T> {
    let settled = false;
    const result = done.finally(() => (settled = true));
    for (;;) {
      await new Promise((r) => setImmediate(r)); // every pending microtask chain runs first
      if (settled) return result;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (!next) throw new Error("virtual clock: nothing scheduled and the run has not finished");
      this.#now = next.at;
      next.fn();
    }
  }
}
