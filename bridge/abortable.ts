/**
 * Iterating under an AbortSignal: the edge answers when its caller's deadline
 * passes or its client leaves, whether or not the work behind it notices
 * (one await under a signal is the runtime's `abortable`).
 */
import { abortable } from "../runtime/index.js";

/**
 * The rest of an iterator, each step guarded by the signal. Leaving early
 * (break, throw, abort) returns the iterator, so a generator behind it runs
 * its cleanup.
 */
export async function* untilAborted<T>(iterator: AsyncIterator<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  try {
    for (;;) {
      const step = await abortable(iterator.next(), signal);
      if (step.done) return;
      yield step.value;
    }
  } finally {
    closeQuietly(iterator);
  }
}

/** Returns an iterator without waiting for it (a pending next() would hold the return back). */
export function closeQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  } catch {
    // an iterator whose return throws synchronously has nothing left to clean up
  }
}
