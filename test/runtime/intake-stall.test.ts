import assert from "node:assert/strict";
import { test } from "node:test";
import { STALL_CHECK_MS, watchForStall } from "../../runtime/cluster/intake-stall.js";
import { isColmenaError, ManualClock } from "../../runtime/index.js";

/** A consume as the watch sees it, driven by hand: what the server has waiting, what was delivered, what is in hand. */
function consume(pending: number) {
  const clock = new ManualClock();
  let stop!: () => void;
  const state = { pending, delivered: 0, inHand: 0, stopped: false };
  const stopping = new Promise<void>((resolve) => (stop = resolve));
  const watch = watchForStall({
    pending: async () => state.pending,
    delivered: () => state.delivered,
    idle: () => state.inHand === 0,
    stopped: () => state.stopped,
    stopping,
    clock,
    what: "the durable consumer r0",
  });
  let outcome: "running" | "stopped" | unknown = "running";
  watch.then(
    () => (outcome = "stopped"),
    (err: unknown) => (outcome = err),
  );
  const check = async () => {
    clock.advance(STALL_CHECK_MS);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { state, check, outcome: () => outcome, stop: () => ((state.stopped = true), stop()) };
}

test("intake stall - entries waiting, none delivered across a whole check, none in hand: the consume fails, retryable", async () => {
  const c = consume(3);
  await c.check();
  assert.equal(c.outcome(), "running", "the first check only notes where delivery stands");
  await c.check();
  const err = c.outcome();
  assert.ok(isColmenaError(err, "UNAVAILABLE") && err.retryable, String(err));
  assert.match((err as Error).message, /the durable consumer r0 delivered nothing for 5000 ms with 3 entries waiting/);
});

test("intake stall - a consume that delivers, has entries in hand, or has nothing waiting is not stuck; stopping ends the watch", async () => {
  const c = consume(3);
  await c.check();
  for (let i = 0; i < 3; i++) {
    c.state.delivered++;
    await c.check();
  }
  c.state.inHand = 1;
  await c.check();
  await c.check();
  c.state.inHand = 0;
  c.state.pending = 0;
  await c.check();
  await c.check();
  assert.equal(c.outcome(), "running");
  c.stop();
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(c.outcome(), "stopped");
});
