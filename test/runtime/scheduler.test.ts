import assert from "node:assert/strict";
import { test } from "node:test";
import { dispatch, SLICE_MS, sliceSpent, yieldIfSpent } from "../../runtime/cell/scheduler.js";

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test("scheduler - dispatched work runs as microtasks within a slice, then waits for the next turn", async () => {
  const ran: string[] = [];
  // The chain's end is awaited, not a fixed time: on a busy machine the turns between slices come late.
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const chain = (n: number) => () => {
    ran.push(`w${n}`);
    spin(1);
    if (n < 20) dispatch(chain(n + 1));
    else resolve();
  };
  dispatch(chain(1));
  setImmediate(() => ran.push("io"));
  await finished;
  const io = ran.indexOf("io");
  assert.equal(ran.filter((r) => r !== "io").length, 20, "the whole chain ran");
  assert.ok(io > 0 && io <= SLICE_MS + 1, `the next turn came after ${io} steps of 1 ms: ${ran.join(" ")}`);
});

test("scheduler - a loop outside actor cells yields once the slice is spent", async () => {
  let turns = 0;
  const probe = setInterval(() => turns++, 0);
  let yields = 0;
  for (let i = 0; i < 30; i++) {
    spin(1);
    const y = yieldIfSpent();
    if (y) {
      yields++;
      await y;
    }
  }
  clearInterval(probe);
  assert.ok(yields >= 30 / (SLICE_MS + 1), `yielded ${yields} times in 30 ms of work`);
  assert.ok(turns > 0, "timers ran in between");
  await new Promise((r) => setImmediate(r));
  assert.equal(sliceSpent(), false, "a fresh turn starts a fresh slice");
});
