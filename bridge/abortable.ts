/**
 * Awaiting under an AbortSignal: the edge answers when its caller's deadline
 * passes or its client leaves, whether or not the work behind it notices.
 */

/** Settles as `work` does, or rejects with the signal's reason as soon as it aborts. */
export function guard<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        // Work that fails because it was aborted reports the abort's reason (TIMEOUT, CANCELLED), not its own.
        reject(signal.aborted ? signal.reason : err);
      },
    );
  });
}

/**
 * The rest of an iterator, each step guarded by the signal. Leaving early
 * (break, throw, abort) returns the iterator, so a generator behind it runs
 * its cleanup.
 */
export async function* untilAborted<T>(iterator: AsyncIterator<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  try {
    for (;;) {
      const step = await guard(iterator.next(), signal);
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
