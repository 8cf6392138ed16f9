import { ColmenaError } from "../contract/errors.js";
import type { ActorStream } from "../contract/stream.js";

type Item = { chunk: unknown } | { end: true } | { error: ColmenaError };
const END: Item = { end: true };

/**
 * A bounded hand-over queue between a producer and one consumer: `push`
 * never holds more than `capacity` items (the producer waits for credit
 * before pushing), `onConsumed` tells the transport when to grant more.
 */
export class ChunkQueue<T> implements ActorStream<T> {
  readonly #items: Item[] = [];
  readonly #onCancel: () => void;
  #waiter: ((item: Item) => void) | undefined;
  #finished = false;
  #iterating = false;
  onConsumed: (() => void) | undefined;

  constructor(onCancel: () => void) {
    this.#onCancel = onCancel;
  }

  get finished(): boolean {
    return this.#finished;
  }

  push(item: Item): void {
    if (this.#finished) return;
    if ("end" in item || "error" in item) this.#finished = true;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w(item);
    } else {
      this.#items.push(item);
    }
  }

  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#items.length = 0;
    this.#onCancel();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ end: true });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new ColmenaError("INVALID", "a stream can be iterated only once");
    this.#iterating = true;
    try {
      for (;;) {
        const item = this.#items.shift() ?? (this.#finished ? END : await new Promise<Item>((resolve) => (this.#waiter = resolve)));
        if ("error" in item) throw item.error;
        if ("end" in item) return;
        this.onConsumed?.();
        yield item.chunk as T;
      }
    } finally {
      this.cancel();
    }
  }
}
