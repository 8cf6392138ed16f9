/**
 * Awaiting under an AbortSignal: a caller answers when its deadline passes
 * or its client leaves, whether or not the work behind it notices (the work
 * runs on: a reply that comes later is ignored).
 */

/** Settles as `work` does, or rejects with the signal's reason as soon as it aborts; no signal, `work` itself. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
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
