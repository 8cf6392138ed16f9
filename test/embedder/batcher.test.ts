import assert from "node:assert/strict";
import { setImmediate as settle } from "node:timers/promises";
import { test } from "node:test";
import { Batcher } from "../../actors/embedder/index.js";
import type { BatcherOptions } from "../../actors/embedder/index.js";
import { isColmenaError, ManualClock } from "../../runtime/index.js";

const MAX_WAIT_MS = 5;

/** A run function that records its batches and answers when the test releases them. */
function controlledRun<I>() {
  const batches: I[][] = [];
  const waiting: Array<() => void> = [];
  const run = async (items: I[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => waiting.push(resolve));
    return items.map((item) => `out:${String(item)}`);
  };
  const release = async () => {
    waiting.splice(0).forEach((resolve) => resolve());
    await settle();
  };
  return { batches, run, release };
}

function batcher<I>(opts: Partial<BatcherOptions<I, string>> & Pick<BatcherOptions<I, string>, "run">) {
  const clock = new ManualClock();
  return { clock, batcher: new Batcher<I, string>({ maxBatch: 4, maxWaitMs: MAX_WAIT_MS, clock, ...opts }) };
}

test("batcher - items within the wait are grouped up to maxBatch; a full batch runs at once", async () => {
  const { batches, run, release } = controlledRun<number>();
  const { clock, batcher: b } = batcher({ run, maxBatch: 2, concurrency: 3 });
  const results = [1, 2, 3, 4, 5].map((n) => b.submit(n));
  await settle();
  assert.deepEqual(batches, [[1, 2], [3, 4]]);
  assert.equal(b.pending, 1);
  clock.advance(MAX_WAIT_MS);
  await settle();
  assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  assert.equal(b.pending, 0);
  await release();
  assert.deepEqual(await Promise.all(results), ["out:1", "out:2", "out:3", "out:4", "out:5"]);
});

test("batcher - a partial batch waits for maxWaitMs, or runs at once on flush", async () => {
  const { batches, run, release } = controlledRun<string>();
  const { clock, batcher: b } = batcher({ run, concurrency: 2 });
  void b.submit("a");
  await settle();
  assert.deepEqual(batches, []);
  assert.equal(clock.pending(), 1);
  clock.advance(MAX_WAIT_MS - 1);
  await settle();
  assert.deepEqual(batches, [], "not due before maxWaitMs");
  clock.advance(1);
  await settle();
  assert.deepEqual(batches, [["a"]]);
  const late = b.submit("b");
  b.flush();
  await settle();
  assert.deepEqual(batches, [["a"], ["b"]]);
  assert.equal(clock.pending(), 0);
  await release();
  assert.equal(await late, "out:b");
});

test("batcher - the token budget splits batches by padded cost", async () => {
  const { batches, run, release } = controlledRun<string>();
  const { clock, batcher: b } = batcher<string>({ run, maxBatch: 8, maxTokens: 10, cost: (s) => s.length, concurrency: 8 });
  const words = ["aaa", "bbb", "ccc", "dddddd", "e", "ffffffffffffffffffff", "g"];
  const results = words.map((w) => b.submit(w));
  clock.advance(MAX_WAIT_MS);
  await settle();
  // 3 × 3 fits in 10; "dddddd" pads the next batch to 6 so "e" cannot join (2 × 6 > 10);
  // the oversized item runs alone; "g" waits for the timer.
  assert.deepEqual(batches, [["aaa", "bbb", "ccc"], ["dddddd"], ["e"], ["ffffffffffffffffffff"], ["g"]]);
  await release();
  assert.deepEqual(await Promise.all(results), words.map((w) => `out:${w}`));
});

test("batcher - while a batch runs the next keeps filling, and batches run in order", async () => {
  const { batches, run, release } = controlledRun<number>();
  const { clock, batcher: b } = batcher({ run, maxBatch: 3 });
  const results = [b.submit(1)];
  clock.advance(MAX_WAIT_MS);
  await settle();
  results.push(b.submit(2));
  clock.advance(MAX_WAIT_MS); // due, but the only slot is busy: the batch stays open
  results.push(b.submit(3), b.submit(4), b.submit(5));
  await settle();
  assert.deepEqual(batches, [[1]]);
  assert.equal(b.pending, 4);
  await release();
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
  await release();
  assert.deepEqual(batches, [[1], [2, 3, 4]], "5 opened a new batch that is not due yet");
  clock.advance(MAX_WAIT_MS);
  await settle();
  assert.deepEqual(batches, [[1], [2, 3, 4], [5]]);
  await release();
  assert.deepEqual(await Promise.all(results), [1, 2, 3, 4, 5].map((n) => `out:${n}`));
});

test("batcher - results match the order of submits", async () => {
  const { batcher: b } = batcher<number>({ maxBatch: 3, run: async (items) => items.map((n) => `${n * 10}`) });
  const inputs = Array.from({ length: 10 }, (_, i) => i);
  const pending = inputs.map((n) => b.submit(n));
  b.flush();
  assert.deepEqual(await Promise.all(pending), inputs.map((n) => `${n * 10}`));
});

test("batcher - a failed batch rejects only its own items", async () => {
  const boom = new Error("model failed");
  const { batcher: b } = batcher<string>({
    maxBatch: 2,
    concurrency: 2,
    run: async (items) => {
      if (items.includes("bad")) throw boom;
      return items.map((s) => s.toUpperCase());
    },
  });
  const results = await Promise.allSettled(["a", "bad", "c", "d"].map((s) => b.submit(s)));
  assert.deepEqual(results, [
    { status: "rejected", reason: boom },
    { status: "rejected", reason: boom },
    { status: "fulfilled", value: "C" },
    { status: "fulfilled", value: "D" },
  ]);
  const after = b.submit("after");
  b.flush();
  assert.equal(await after, "AFTER");
});

test("batcher - a run that returns the wrong number of results is INTERNAL", async () => {
  const { batcher: b } = batcher<string>({ maxBatch: 2, run: async () => ["only one"] });
  const results = await Promise.allSettled([b.submit("a"), b.submit("b")]);
  for (const r of results) assert.ok(r.status === "rejected" && isColmenaError(r.reason, "INTERNAL"));
});

test("batcher - bad options are refused", () => {
  const run = async (items: string[]) => items;
  assert.throws(() => new Batcher({ maxBatch: 0, maxWaitMs: 1, run }), RangeError);
  assert.throws(() => new Batcher({ maxBatch: 1, maxWaitMs: -1, run }), RangeError);
  assert.throws(() => new Batcher({ maxBatch: 1, maxWaitMs: 1, maxTokens: 10, run }), RangeError);
  assert.throws(() => new Batcher({ maxBatch: 1, maxWaitMs: 1, concurrency: 0, run }), RangeError);
});
