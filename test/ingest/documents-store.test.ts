import assert from "node:assert/strict";
import { test } from "node:test";
import { ingestDocuments, openIngestLog } from "../../actors/index.js";
import { Codec } from "../../nats/index.js";
import { ColmenaError, isColmenaError, NatsStorage, Subjects, systemClock, type Log } from "../../runtime/index.js";
import { serverWithClient } from "../helpers/nats-server.js";

/**
 * Storing documents in the ingest stream when some entries are not stored
 * for a passing reason (a stream electing a leader after a server loss):
 * the real stream, with the outcome of chosen tries replaced by UNAVAILABLE.
 */
const fx = serverWithClient();
const unavailable = () => new ColmenaError("UNAVAILABLE", "an entry on the ingest stream was not stored: no responders");

/** The real log; `outcome(try, entry)` says which entries of a try are answered UNAVAILABLE, stored or not. */
function flaky(log: Log, outcome: (attempt: number, entry: number) => "ok" | "lost answer" | "refused"): Log & { tries: number[] } {
  const tries: number[] = [];
  const appendAll = async (entries: Parameters<Log["appendAll"]>[0]): Promise<PromiseSettledResult<number>[]> => {
    const attempt = tries.push(entries.length) - 1;
    const kinds = entries.map((_, i) => outcome(attempt, i));
    const results = await log.appendAll(entries.filter((_, i) => kinds[i] !== "refused"));
    let next = 0;
    return kinds.map((k): PromiseSettledResult<number> => {
      if (k === "refused") return { status: "rejected", reason: unavailable() };
      const stored = results[next++]!;
      return k === "lost answer" ? { status: "rejected", reason: unavailable() } : stored;
    });
  };
  const own = { tries, appendAll };
  return new Proxy(log, {
    get: (target, prop) => (prop in own ? own[prop as keyof typeof own] : typeof target[prop as keyof Log] === "function" ? (target[prop as keyof Log] as (...a: unknown[]) => unknown).bind(target) : target[prop as keyof Log]),
  }) as Log & { tries: number[] };
}

test("ingest store - entries not stored for a passing reason are sent again until they are, and one whose answer was lost is stored once", async () => {
  const log = await openIngestLog(new NatsStorage(fx.nc, new Subjects("ds1"), new Codec(), systemClock));
  // Try 0: the first entry stored, the second stored with its answer lost, the third refused; try 1: the third refused again.
  const store = flaky(log, (attempt, i) => (attempt === 0 ? (["ok", "lost answer", "refused"] as const)[i]! : attempt === 1 && i === 1 ? "refused" : "ok"));
  const docs = ["a", "b", "c"].map((id) => ({ id, text: `document ${id}` }));
  const ids = await ingestDocuments(store, docs, { retryUntil: Date.now() + 10_000 });
  assert.deepEqual(ids, ["a", "b", "c"]);
  assert.deepEqual(store.tries, [3, 2, 1], "each try sends only what was not stored");
  assert.equal((await log.state()).messages, 3, "the entry stored though its answer was lost is not stored again");
});

test("ingest store - without time to retry, or past it, the failure is UNAVAILABLE naming what was stored and what was not", async () => {
  const log = await openIngestLog(new NatsStorage(fx.nc, new Subjects("ds2"), new Codec(), systemClock));
  const docs = ["a", "b"].map((id) => ({ id, text: `document ${id}` }));
  const once = flaky(log, (_, i) => (i === 1 ? "refused" : "ok"));
  await assert.rejects(ingestDocuments(once, docs), (err) => isColmenaError(err, "UNAVAILABLE") && /1 of 2 documents were not stored/.test(err.message) && JSON.stringify(err.details) === JSON.stringify({ stored: ["a"], failed: ["b"] }));
  assert.deepEqual(once.tries, [2], "no retry without retryUntil");
  const never = flaky(log, () => "refused");
  const started = Date.now();
  await assert.rejects(ingestDocuments(never, docs, { retryUntil: started + 800 }), (err) => isColmenaError(err, "UNAVAILABLE") && /2 of 2/.test(err.message));
  assert.ok(never.tries.length >= 2, `sent again while there was time (${never.tries.length} tries)`);
  assert.ok(Date.now() - started < 800 + 1_000, "and given up by retryUntil (plus one pause at most)");
});
