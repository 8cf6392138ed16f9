/**
 * Cooperative time slicing for the actors of one JS thread.
 *
 * A message handed from one local actor to another continues as a microtask,
 * and microtasks run to the end before the event loop polls I/O again. Under
 * load a chain of cheap local hops becomes one long task: a backlog of shard
 * searches kept the thread from reading sockets until the whole backlog was
 * done, so even the HTTP bridge's instant "overloaded" answers waited behind
 * it.
 *
 * So every actor cell runs its mailbox through here. Work started within the
 * current slice (`SLICE_MS` from the first dispatch of this event-loop turn)
 * runs at once as a microtask; work dispatched after the slice is spent waits
 * for the next turn (`setImmediate`), after the loop has polled I/O. A thread
 * busy with actors therefore still answers sockets every `SLICE_MS` plus the
 * longest single handler, and cells take turns in the order they yielded.
 */

/** Longest stretch of actor work between two polls of I/O. */
export const SLICE_MS = 4;

/** performance.now() when this turn's slice began; -1 while no slice is open. */
let sliceStart = -1;

function closeSlice(): void {
  sliceStart = -1;
}

/** True once this turn's slice is spent (opening one if none is): a loop processing messages should stop and `dispatch` its continuation. */
export function sliceSpent(): boolean {
  const now = performance.now();
  if (sliceStart < 0) {
    sliceStart = now;
    // Queued before any work deferred in this slice, so the next turn starts a fresh one.
    setImmediate(closeSlice);
    return false;
  }
  return now - sliceStart >= SLICE_MS;
}

/** Runs `work` in this slice (as a microtask) or, when the slice is spent, in the next turn of the event loop. */
export function dispatch(work: () => void): void {
  if (sliceSpent()) setImmediate(dispatch, work);
  else queueMicrotask(work);
}

/** Resolves in this slice, or in the next turn when it is spent: for loops outside actor cells (log replay, bulk apply) to let I/O in. */
export function yieldIfSpent(): Promise<void> | undefined {
  return sliceSpent() ? new Promise((resolve) => setImmediate(resolve)) : undefined;
}
