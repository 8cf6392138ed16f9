/**
 * A bounded FIFO for user messages plus an unbounded-in-practice lane for
 * system messages (stop, restart), which a consumer takes first. `offer` is
 * O(1) and never grows the buffer past its capacity: a full mailbox refuses.
 */
export class Mailbox<T, S = unknown> {
  readonly capacity: number;
  readonly #ring: Array<T | undefined>;
  #head = 0;
  #size = 0;
  readonly #system: S[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#ring = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get hasSystem(): boolean {
    return this.#system.length > 0;
  }

  /** Adds a user message; false when the mailbox is full. */
  offer(item: T): boolean {
    if (this.#size === this.capacity) return false;
    this.#ring[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return true;
  }

  /** System messages skip the queue of user messages. */
  offerSystem(item: S): void {
    this.#system.push(item);
  }

  takeSystem(): S | undefined {
    return this.#system.shift();
  }

  take(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }

  /** Empties the user queue, handing each message to `fn` (to reject it). */
  drainTo(fn: (item: T) => void): void {
    for (let item = this.take(); item !== undefined; item = this.take()) fn(item);
  }
}
