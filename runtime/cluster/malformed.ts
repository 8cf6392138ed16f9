import { LRUCache } from "lru-cache";
import type { Logger } from "../observe/logger.js";

/** Where a malformed entry was read. */
export type EntrySource = "membership" | "placement" | "state";

/**
 * Entries read from a bucket that did not validate: each is logged once
 * (its source, key and revision: a reader that meets it again stays quiet),
 * counted, and skipped by its reader. The counts appear in the node's stats,
 * so in `/v1/status` and as `colmena_status` figures.
 */
export class MalformedEntries {
  readonly #log: Logger;
  readonly #seen = new LRUCache<string, true>({ max: 10_000 });
  readonly #counts: Record<EntrySource, number> = { membership: 0, placement: 0, state: 0 };

  constructor(log: Logger) {
    this.#log = log;
  }

  report(source: EntrySource, key: string, revision: number, err: unknown): void {
    const id = `${source}\u0000${key}\u0000${revision}`;
    if (this.#seen.has(id)) return;
    this.#seen.set(id, true);
    this.#counts[source]++;
    this.#log.warn({ source, key: key.slice(0, 200), revision, err: (err as Error)?.message ?? String(err) }, "skipped a malformed entry");
  }

  counts(): Readonly<Record<EntrySource, number>> {
    return { ...this.#counts };
  }
}
