/** Whatever a clock's setTimeout returns; only ever handed back to the same clock. */
export type TimerHandle = unknown;

/**
 * Time, injected. Everything in Colmena that waits (backoff, leases, TTLs,
 * deadlines) asks a Clock, so tests drive time with a ManualClock instead of
 * sleeping. The shape is a superset of XState's `clock` option for createActor.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Wall-clock time and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Timer {
  readonly at: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  #now: number;
  #nextHandle = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.#nextHandle++;
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /**
   * Moves time forward by `ms`, running each timer that falls due on the way
   * at its own time, earliest first (ties in the order they were set),
   * including timers that those timers set.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let due = this.#nextDue(end); due; due = this.#nextDue(end)) {
      this.#timers.delete(due.handle);
      this.#now = due.timer.at;
      due.timer.fn();
    }
    this.#now = end;
  }

  /** How many timers are set and not yet run or cleared. */
  pending(): number {
    return this.#timers.size;
  }

  #nextDue(end: number): { handle: number; timer: Timer } | undefined {
    let next: { handle: number; timer: Timer } | undefined;
    for (const [handle, timer] of this.#timers) {
      if (timer.at <= end && (!next || timer.at < next.timer.at)) next = { handle, timer };
    }
    return next;
  }
}
