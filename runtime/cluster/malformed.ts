import { LRUCache } from "lru-cache";
import { Counter } from "prom-client";
import type { Logger } from "../observe/logger.js";
import { nodeMetrics } from "../observe/metrics.js";

/** Where a malformed entry was read. */
export type EntrySource = "membership" | "placement" | "state";

/**
 * Entries skipped because they did not validate, by where they were read: a
 * bucket (membership, placement, keyed state; `kind` empty) or a durable
 * intake (`source="intake"`, with the actor kind it fed). Rare events, so a
 * plain inc each; the bucket sources start at zero, so the family is there
 * before anything goes wrong.
 */
const malformedTotal = new Counter({
  name: "colmena_malformed_entries_total",
  help: "Entries skipped because they did not validate, by source (membership, placement, state, intake) and, for intake, actor kind",
  labelNames: ["source", "kind"],
  registers: [nodeMetrics],
});
for (const source of ["membership", "placement", "state"] as const) malformedTotal.inc({ source }, 0);

/** A durable intake terminated an entry that is not a valid message of `kind`. */
export function intakeEntryRefused(kind: string): void {
  malformedTotal.inc({ source: "intake", kind });
}

/**
 * Entries read from a bucket that did not validate: each is logged once
 * (its source, key and revision: a reader that meets it again stays quiet),
 * counted, and skipped by its reader. The counts appear in the node's stats
 * (`/v1/status`) and in `colmena_malformed_entries_total`.
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
    malformedTotal.inc({ source });
    this.#log.warn({ source, key: key.slice(0, 200), revision, err: (err as Error)?.message ?? String(err) }, "skipped a malformed entry");
  }

  counts(): Readonly<Record<EntrySource, number>> {
    return { ...this.#counts };
  }
}
