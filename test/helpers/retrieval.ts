import type { ActorSystem } from "../../runtime/index.js";
import { IngestKind, waitForShards, type IndexSpec } from "../../actors/index.js";

/** Waits until the ingest queue is empty and every replica of `spec` has applied its log. */
// Generous: on a busy machine a few hundred documents take tens of seconds; the deadline only guards against a hang.
export async function waitForIngest(system: ActorSystem, spec: IndexSpec, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await system.pool(IngestKind).ask({ type: "progress" });
    if (progress.pending === 0) break;
    if (Date.now() > deadline) throw new Error(`ingest still has ${progress.pending} documents pending`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitForShards(system.storage, system, spec, { timeoutMs: Math.max(1, deadline - Date.now()) });
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
