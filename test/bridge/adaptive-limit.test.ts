import assert from "node:assert/strict";
import { test } from "node:test";
import { AdaptiveLimit } from "../../bridge/http/adaptive-limit.js";

const options = { initialLimit: 20, minLimit: 4, maxLimit: 200, tolerance: 1.5 };

/** Runs `rounds` full waves of requests at the limit, each taking `rtt(limit)` ms. */
function drive(limit: AdaptiveLimit, rounds: number, rtt: (inFlight: number) => number): void {
  for (let r = 0; r < rounds; r++) {
    let taken = 0;
    while (limit.tryAcquire()) taken++;
    for (let i = 0; i < taken; i++) limit.release(rtt(taken));
  }
}

test("adaptive limit - refuses past the limit and admits again after a release", () => {
  const limit = new AdaptiveLimit(options);
  for (let i = 0; i < 20; i++) assert.ok(limit.tryAcquire());
  assert.equal(limit.tryAcquire(), false);
  limit.release(10);
  assert.ok(limit.tryAcquire());
});

test("adaptive limit - grows while latency holds steady", () => {
  const limit = new AdaptiveLimit(options);
  drive(limit, 50, () => 10);
  assert.ok(limit.limit > 40, `limit ${limit.limit}`);
  assert.ok(limit.limit <= options.maxLimit);
});

test("adaptive limit - shrinks when latency grows with the work admitted (queueing), but not below its minimum", () => {
  const limit = new AdaptiveLimit(options);
  drive(limit, 30, () => 10);
  const before = limit.limit;
  // Past 8 in flight, every extra request queues: latency grows with what is admitted.
  drive(limit, 3, (inFlight) => 10 * Math.max(1, inFlight / 8));
  assert.ok(limit.limit < before / 2, `limit went from ${before} to ${limit.limit}`);
  assert.ok(limit.limit >= options.minLimit);
  assert.ok(limit.retryAfterMs() >= 1);
});
