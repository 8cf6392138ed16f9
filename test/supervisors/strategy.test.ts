import assert from "node:assert/strict";
import { test } from "node:test";
import type { Strategy } from "../../supervisors/index.js";
import { ManualClock, Supervisor } from "../../supervisors/index.js";
import { fixedBackoff, settle, testChild } from "./helpers.js";

async function failSecondOfThree(strategy: Strategy): Promise<{ log: string[]; supervisor: Supervisor }> {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b, c] = ["a", "b", "c"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", strategy, clock, backoff: fixedBackoff }, [a!.spec, b!.spec, c!.spec]);
  await supervisor.start();
  assert.deepEqual(log.splice(0), ["start a", "start b", "start c"]);

  assert.equal(b!.fail(), "restart");
  await settle();
  assert.equal(supervisor.state, "restarting.backoff");
  clock.advance(fixedBackoff.initialMs);
  await settle();
  assert.equal(supervisor.state, "running");
  return { log, supervisor };
}

test("strategy - one-for-one restarts only the failed child", async () => {
  const { log, supervisor } = await failSecondOfThree("one-for-one");
  assert.deepEqual(log, ["stop b", "start b"]);
  assert.deepEqual(supervisor.children(), [
    { id: "a", status: "running", restarts: 0 },
    { id: "b", status: "running", restarts: 1 },
    { id: "c", status: "running", restarts: 0 },
  ]);
});

test("strategy - one-for-all stops all children in reverse and starts them in order", async () => {
  const { log, supervisor } = await failSecondOfThree("one-for-all");
  assert.deepEqual(log, ["stop c", "stop b", "stop a", "start a", "start b", "start c"]);
  assert.deepEqual(
    supervisor.children().map((child) => child.restarts),
    [1, 1, 1],
  );
});

test("strategy - rest-for-one restarts the failed child and those started after it", async () => {
  const { log, supervisor } = await failSecondOfThree("rest-for-one");
  assert.deepEqual(log, ["stop c", "stop b", "start b", "start c"]);
  assert.deepEqual(
    supervisor.children().map((child) => child.restarts),
    [0, 1, 1],
  );
});

test("strategy - the children wait out the backoff stopped, then start", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const a = testChild("a", log);
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff }, [a.spec]);
  await supervisor.start();
  a.fail();
  await settle();
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "restarting", restarts: 1 }]);
  clock.advance(fixedBackoff.initialMs - 1);
  await settle();
  assert.deepEqual(log, ["start a", "stop a"]);
  clock.advance(1);
  await settle();
  assert.deepEqual(log, ["start a", "stop a", "start a"]);
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 1 }]);
});
