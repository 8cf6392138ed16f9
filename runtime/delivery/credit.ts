/**
 * The producer's side of credit-based stream flow control, on either side of
 * the wire: a chunk may go while credit is left, the consumer's grants add
 * more and wake the producer. Once released (the stream is cancelled or
 * closed) the producer never waits again, so it runs to where it notices.
 */
export class Credit {
  #available: number;
  #released = false;
  #waiter: (() => void) | undefined;

  constructor(initial: number) {
    this.#available = Number.isInteger(initial) && initial > 0 ? initial : 1;
  }

  /** Takes one credit: undefined when a chunk may go now, else a promise of when it may. */
  take(): Promise<void> | undefined {
    if (this.#available > 0 || this.#released) {
      this.#available--;
      return undefined;
    }
    return new Promise((resolve) => {
      this.#waiter = () => {
        this.#available--;
        resolve();
      };
    });
  }

  grant(n: number): void {
    this.#available += n;
    this.#wake();
  }

  release(): void {
    this.#released = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
