import assert from "node:assert/strict";
import { test } from "node:test";
import { createActor, createMachine } from "xstate";
import { ManualClock, systemClock } from "../../supervisors/index.js";

test("clock - manual clock runs due timers in time order", () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
  const cancelled = clock.setTimeout(() => fired.push("never"), 5);
  clock.clearTimeout(cancelled);
  assert.equal(clock.pending(), 3);
  clock.advance(15);
  assert.deepEqual(fired, ["a@1010"]);
  assert.equal(clock.now(), 1_015);
  clock.advance(5);
  assert.deepEqual(fired, ["a@1010", "b@1020", "c@1020"]);
  assert.equal(clock.pending(), 0);
});

test("clock - manual clock runs timers set by timers within the same advance", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const tick = () => {
    fired.push(clock.now());
    if (fired.length < 5) clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  clock.advance(35);
  assert.deepEqual(fired, [10, 20, 30]);
  assert.equal(clock.pending(), 1);
  clock.advance(100);
  assert.deepEqual(fired, [10, 20, 30, 40, 50]);
});

test("clock - manual clock drives xstate delayed transitions", () => {
  const clock = new ManualClock();
  const machine = createMachine({ initial: "waiting", states: { waiting: { after: { 500: "done" } }, done: {} } });
  const actor = createActor(machine, { clock }).start();
  clock.advance(499);
  assert.equal(actor.getSnapshot().value, "waiting");
  clock.advance(1);
  assert.equal(actor.getSnapshot().value, "done");
});

test("clock - system clock reads wall time and cancels timers", () => {
  const before = Date.now();
  assert.ok(systemClock.now() >= before);
  const handle = systemClock.setTimeout(() => assert.fail("cancelled timer ran"), 0);
  systemClock.clearTimeout(handle);
});
