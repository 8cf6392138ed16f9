import assert from "node:assert/strict";
import { test } from "node:test";
import type { SupervisorEvent } from "../../supervisors/index.js";
import { isEscalationError, ManualClock, Supervisor } from "../../supervisors/index.js";
import { fixedBackoff, settle, testChild } from "./helpers.js";

test("nested - escalation reaches the parent, which applies its own strategy", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const parentEvents: SupervisorEvent[] = [];
  const [x, c, y] = ["x", "c", "y"].map((id) => testChild(id, log));
  const inner = new Supervisor({ name: "inner", clock, backoff: fixedBackoff, decider: () => "escalate" }, [c!.spec]);
  const parent = new Supervisor(
    { name: "parent", strategy: "one-for-all", clock, backoff: fixedBackoff, onEvent: (e) => parentEvents.push(e) },
    [x!.spec, inner.asChild(), y!.spec],
  );
  await parent.start();
  assert.deepEqual(log.splice(0), ["start x", "start c", "start y"]);

  const cause = new Error("c broke");
  assert.equal(c!.fail(cause), "escalate");
  await settle();
  assert.equal(parent.state, "restarting.backoff");
  assert.deepEqual(log.splice(0), ["stop c", "stop y", "stop x"]);
  const failed = parentEvents.find((event) => event.type === "child-failed");
  assert.ok(failed?.type === "child-failed" && isEscalationError(failed.error));
  assert.equal(failed.id, "inner");
  assert.equal(failed.error.cause, cause);

  clock.advance(fixedBackoff.initialMs);
  await settle();
  assert.deepEqual(log, ["start x", "start c", "start y"]);
  assert.equal(parent.state, "running");
  assert.equal(inner.state, "running");
  assert.deepEqual(
    parent.children().map(({ id, status, restarts }) => [id, status, restarts]),
    [
      ["x", "running", 1],
      ["inner", "running", 1],
      ["y", "running", 1],
    ],
  );
});

test("nested - a restarted inner supervisor gets a fresh intensity window", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const c = testChild("c", log);
  const inner = new Supervisor(
    { name: "inner", clock, backoff: fixedBackoff, intensity: { maxRestarts: 1, withinMs: 60_000 } },
    [c.spec],
  );
  const parent = new Supervisor({ name: "parent", clock, backoff: fixedBackoff }, [inner.asChild()]);
  await parent.start();
  c.fail(); // inner restarts c
  await settle();
  clock.advance(10);
  await settle();
  c.fail(); // a second restart within the window: inner escalates, parent restarts inner
  await settle();
  clock.advance(10);
  await settle();
  assert.equal(inner.state, "running");
  c.fail(); // the inner supervisor is new: this is its first restart
  await settle();
  assert.equal(inner.state, "restarting.backoff");
  assert.deepEqual(parent.children(), [{ id: "inner", status: "running", restarts: 1 }]);
});
