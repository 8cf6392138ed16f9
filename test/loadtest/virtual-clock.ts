import type { Clock, TimerHandle } from "../../supervisors/index.js";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Discrete-event time for the generator's tests: `now()` moves only when the
 * next timer is due, and every promise chain settles before it does, so a
 * run's latencies come out exact and nothing sleeps for real. (A ManualClock
 * moves by the amount a test says; this one finds the next due timer itself.)
 */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.#timers.indexOf(handle as Timer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
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
