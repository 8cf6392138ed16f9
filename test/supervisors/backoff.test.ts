import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "../../supervisors/backoff.js";
import { ManualClock, Supervisor } from "../../supervisors/index.js";
import { eventLog, settle, testChild } from "./helpers.js";

const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.2 };

test("backoff - delays grow exponentially and are capped", () => {
  const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay({ ...backoff, jitter: 0 }, attempt, Math.random));
  assert.deepEqual(delays, [100, 200, 400, 800, 1_000, 1_000]);
});

test("backoff - jitter stays within plus or minus its fraction", () => {
  assert.equal(backoffDelay(backoff, 1, () => 0), 80);
  assert.equal(backoffDelay(backoff, 1, () => 0.5), 100);
  assert.equal(backoffDelay(backoff, 1, () => 0.999_999), 120);
  assert.equal(backoffDelay(backoff, 6, () => 0), 800);
  for (let i = 0; i < 1_000; i++) {
    const random = (i * 0.618_033_988_75) % 1;
    const delay = backoffDelay(backoff, 3, () => random);
    assert.ok(delay >= 320 && delay <= 480, `${delay} out of bounds`);
  }
});

test("backoff - a supervisor waits the growing delays on its clock", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const { events, onEvent } = eventLog();
  const a = testChild("a", log);
  const randoms = [0, 0.5, 0.75, 0.25, 0.5];
  const supervisor = new Supervisor(
    {
      name: "s",
      clock,
      backoff,
      intensity: { maxRestarts: 10, withinMs: 60_000 },
      random: () => randoms.shift()!,
      onEvent,
    },
    [a.spec],
  );
  await supervisor.start();
  const waited: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = clock.now();
    a.fail();
    await settle();
    while (supervisor.state !== "running") {
      clock.advance(1);
      await settle();
    }
    waited.push(clock.now() - before);
  }
  assert.deepEqual(waited, [80, 200, 440, 720, 1_000]);
  assert.deepEqual(
    events.flatMap((event) => (event.type === "child-restarting" ? [[event.attempt, event.delayMs]] : [])),
    [
      [1, 80],
      [2, 200],
      [3, 440],
      [4, 720],
      [5, 1_000],
    ],
  );
});
