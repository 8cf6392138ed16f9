import assert from "node:assert/strict";
import { test } from "node:test";
import type { Directive } from "../../supervisors/index.js";
import { ManualClock, Supervisor } from "../../supervisors/index.js";
import { eventLog, fixedBackoff, settle, testChild } from "./helpers.js";

function supervise(directive: Directive, ids = ["a", "b"]) {
  const log: string[] = [];
  const clock = new ManualClock();
  const { events, onEvent } = eventLog();
  const children = ids.map((id) => testChild(id, log));
  const supervisor = new Supervisor(
    { name: "s", clock, backoff: fixedBackoff, decider: () => directive, onEvent },
    children.map((child) => child.spec),
  );
  return { log, clock, events, children, supervisor };
}

test("directive - resume keeps the child running as it is", async () => {
  const { log, events, children, supervisor } = supervise("resume");
  await supervisor.start();
  const error = new Error("soft");
  assert.equal(children[0]!.fail(error), "resume");
  assert.equal(children[0]!.fail(error), "resume");
  await settle();
  assert.equal(supervisor.state, "running");
  assert.deepEqual(log, ["start a", "start b"]);
  assert.deepEqual(supervisor.children()[0], { id: "a", status: "running", restarts: 0 });
  assert.deepEqual(
    events.filter((event) => event.type === "child-failed"),
    [
      { type: "child-failed", id: "a", error, directive: "resume" },
      { type: "child-failed", id: "a", error, directive: "resume" },
    ],
  );
});

test("directive - stop stops the child and removes it", async () => {
  const { log, clock, children, supervisor } = supervise("stop");
  await supervisor.start();
  assert.equal(children[0]!.fail(), "stop");
  await settle();
  clock.advance(60_000);
  await settle();
  assert.deepEqual(log, ["start a", "start b", "stop a"]);
  assert.deepEqual(supervisor.children(), [{ id: "b", status: "running", restarts: 0 }]);
  assert.equal(supervisor.state, "running");
});

test("directive - escalate stops every child and reports to the parent", async () => {
  const { log, children, supervisor } = supervise("escalate");
  const reported: unknown[] = [];
  await supervisor.start((error) => (reported.push(error), "restart"));
  const cause = new Error("fatal");
  assert.equal(children[1]!.fail(cause), "escalate");
  await settle();
  assert.equal(supervisor.state, "escalated");
  assert.deepEqual(log, ["start a", "start b", "stop b", "stop a"]);
  assert.equal(reported.length, 1);
  const escalation = reported[0] as { code: string; childId: string; supervisor: string; cause: unknown };
  assert.equal(escalation.code, "ESCALATED");
  assert.equal(escalation.childId, "b");
  assert.equal(escalation.supervisor, "s");
  assert.equal(escalation.cause, cause);
});

test("directive - a start that rejects is a failure of that child", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const { events, onEvent } = eventLog();
  const a = testChild("a", log, 1);
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff, onEvent }, [a.spec]);
  await supervisor.start();
  await settle();
  assert.equal(supervisor.state, "restarting.backoff");
  assert.equal(events[0]?.type, "child-failed");
  clock.advance(fixedBackoff.initialMs);
  await settle();
  assert.deepEqual(log, ["start a", "start a"]);
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 1 }]);
});

test("directive - resume on a child that failed to start restarts it", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const a = testChild("a", log, 1);
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff, decider: () => "resume" }, [a.spec]);
  await supervisor.start();
  await settle();
  clock.advance(fixedBackoff.initialMs);
  await settle();
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 1 }]);
});

test("directive - a second report from the same failed instance does not restart twice", async () => {
  const { log, clock, children, supervisor } = supervise("restart");
  await supervisor.start();
  const [a] = children;
  const staleReport = a!.report;
  assert.equal(a!.fail(), "restart");
  assert.equal(staleReport(new Error("again")), "stop");
  await settle();
  clock.advance(fixedBackoff.initialMs);
  await settle();
  assert.equal(staleReport(new Error("after the restart")), "stop");
  await settle();
  clock.advance(60_000);
  await settle();
  assert.deepEqual(log, ["start a", "start b", "stop a", "start a"]);
  assert.deepEqual(supervisor.children()[0], { id: "a", status: "running", restarts: 1 });
});

test("directive - failures during a restart wait their turn", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b, c] = ["a", "b", "c"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff }, [a!.spec, b!.spec, c!.spec]);
  await supervisor.start();
  log.length = 0;
  a!.fail();
  c!.fail();
  await settle();
  assert.equal(supervisor.state, "restarting.backoff");
  assert.deepEqual(log, ["stop a"]);
  clock.advance(10);
  await settle();
  // a is back; now c's queued failure is handled, with the second backoff step.
  assert.equal(supervisor.state, "restarting.backoff");
  assert.deepEqual(log, ["stop a", "start a", "stop c"]);
  clock.advance(20);
  await settle();
  assert.equal(supervisor.state, "running");
  assert.deepEqual(log, ["stop a", "start a", "stop c", "start c"]);
});

test("directive - a sibling that fails while a one-for-all restart is under way restarts once", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b] = ["a", "b"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", strategy: "one-for-all", clock, backoff: fixedBackoff }, [
    a!.spec,
    b!.spec,
  ]);
  await supervisor.start();
  log.length = 0;
  assert.equal(a!.fail(), "restart");
  assert.equal(b!.fail(), "stop");
  await settle();
  clock.advance(10);
  await settle();
  assert.equal(supervisor.state, "running");
  assert.deepEqual(log, ["stop b", "stop a", "start a", "start b"]);
  assert.deepEqual(
    supervisor.children().map((child) => child.restarts),
    [1, 1],
  );
});

test("directive - a queued failure of a child removed meanwhile is dropped", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b] = ["a", "b"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff }, [a!.spec, b!.spec]);
  await supervisor.start();
  log.length = 0;
  a!.fail();
  assert.equal(b!.fail(), "restart");
  await supervisor.remove("b");
  await settle();
  clock.advance(10);
  await settle();
  assert.equal(supervisor.state, "running");
  assert.equal(clock.pending(), 0);
  assert.deepEqual(log, ["stop a", "stop b", "start a"]);
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 1 }]);
});

test("directive - a queued failure of a removed child does not touch a child re-added under its id", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b] = ["a", "b"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff }, [a!.spec, b!.spec]);
  await supervisor.start();
  a!.fail();
  b!.fail();
  await supervisor.remove("b");
  await supervisor.add(testChild("b", log).spec);
  await settle();
  clock.advance(10);
  await settle();
  assert.equal(supervisor.state, "running");
  assert.deepEqual(log, ["start a", "start b", "stop a", "stop b", "start b", "start a"]);
  assert.deepEqual(supervisor.children(), [
    { id: "a", status: "running", restarts: 1 },
    { id: "b", status: "running", restarts: 0 },
  ]);
});
