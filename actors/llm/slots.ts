/** The sequence slots every backend counts its generations with (see `Slots`). */
import { overloaded } from "../../runtime/index.js";
import type { Slots } from "./backend.js";

export class SequenceSlots implements Slots {
  readonly capacity: number;
  readonly #owner: string;
  readonly #listeners = new Set<() => void>();
  #inFlight = 0;

  /** `capacity` Infinity: no limit, for a backend used outside the pool. */
  constructor(capacity: number, owner: string) {
    this.capacity = capacity;
    this.#owner = owner;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot; none free is OVERLOADED (the pool never sends more than capacity, a direct caller may). */
  take(): void {
    if (this.#inFlight >= this.capacity) {
      throw overloaded(`${this.#owner} has ${this.#inFlight} sequences in flight (capacity ${this.capacity})`, 100, { capacity: this.capacity });
    }
    this.#inFlight++;
    this.#notify();
  }

  release(): void {
    this.#inFlight--;
    this.#notify();
  }

  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
