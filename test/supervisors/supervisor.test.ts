import assert from "node:assert/strict";
import { test } from "node:test";
import { isSupervisorError, ManualClock, Supervisor } from "../../supervisors/index.js";
import { eventLog, fixedBackoff, settle, testChild } from "./helpers.js";

test("supervisor - starts children in order and stops them in reverse", async () => {
  const log: string[] = [];
  const { events, onEvent } = eventLog();
  const children = ["a", "b", "c"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock(), onEvent }, children.map((c) => c.spec));
  assert.equal(supervisor.state, "idle");
  await supervisor.start();
  assert.equal(supervisor.state, "running");
  await supervisor.stop("shutdown");
  assert.equal(supervisor.state, "stopped");
  assert.deepEqual(log, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  assert.deepEqual(events.at(-1), { type: "child-stopped", id: "a", reason: "shutdown" });
  assert.deepEqual(
    supervisor.children().map((child) => child.status),
    ["stopped", "stopped", "stopped"],
  );
});

test("supervisor - add starts a child at once and remove stops it", async () => {
  const log: string[] = [];
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock() }, [testChild("a", log).spec]);
  await supervisor.start();
  await supervisor.add(testChild("b", log).spec);
  assert.deepEqual(log, ["start a", "start b"]);
  assert.deepEqual(supervisor.children(), [
    { id: "a", status: "running", restarts: 0 },
    { id: "b", status: "running", restarts: 0 },
  ]);
  await supervisor.remove("b");
  await supervisor.remove("unknown");
  assert.deepEqual(log, ["start a", "start b", "stop b"]);
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 0 }]);
});

test("supervisor - a child added before start starts with the others", async () => {
  const log: string[] = [];
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock() }, [testChild("a", log).spec]);
  await supervisor.add(testChild("b", log).spec);
  assert.deepEqual(log, []);
  await supervisor.start();
  assert.deepEqual(log, ["start a", "start b"]);
});

test("supervisor - duplicate ids and adds after stop are rejected with codes", async () => {
  const log: string[] = [];
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock() }, [testChild("a", log).spec]);
  await supervisor.start();
  await assert.rejects(supervisor.add(testChild("a", log).spec), (error) => {
    return isSupervisorError(error) && error.code === "DUPLICATE_CHILD";
  });
  await assert.rejects(supervisor.start(), (error) => isSupervisorError(error) && error.code === "INVALID_STATE");
  await supervisor.stop();
  await assert.rejects(supervisor.add(testChild("b", log).spec), (error) => {
    return isSupervisorError(error) && error.code === "INVALID_STATE";
  });
});

test("supervisor - stop during a backoff cancels the restart", async () => {
  const log: string[] = [];
  const clock = new ManualClock();
  const [a, b] = ["a", "b"].map((id) => testChild(id, log));
  const supervisor = new Supervisor({ name: "s", clock, backoff: fixedBackoff }, [a!.spec, b!.spec]);
  await supervisor.start();
  a!.fail();
  await settle();
  assert.equal(supervisor.state, "restarting.backoff");
  await supervisor.stop();
  assert.equal(clock.pending(), 0);
  clock.advance(60_000);
  await settle();
  assert.equal(supervisor.state, "stopped");
  assert.deepEqual(log, ["start a", "start b", "stop a", "stop b"]);
});

test("supervisor - stop while children are starting leaves none running", async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = {
    id: "slow",
    start: async () => {
      await gate;
      log.push("start slow");
      return { stop: async () => void log.push("stop slow") };
    },
  };
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock() }, [slow, testChild("b", log).spec]);
  const started = supervisor.start();
  const stopped = supervisor.stop();
  release();
  await Promise.all([started, stopped]);
  assert.equal(supervisor.state, "stopped");
  assert.deepEqual(log, ["start slow", "stop slow"]);
});

test("supervisor - a stop that rejects is reported and the child counts as stopped", async () => {
  const { events, onEvent } = eventLog();
  const failure = new Error("stuck");
  const child = { id: "a", start: async () => ({ stop: () => Promise.reject(failure) }) };
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock(), onEvent }, [child]);
  await supervisor.start();
  await supervisor.stop("bye");
  assert.deepEqual(events.at(-1), { type: "child-stopped", id: "a", reason: "bye", error: failure });
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "stopped", restarts: 0 }]);
});

test("supervisor - a child added again under a removed id starts after the old one stopped", async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const first = {
    id: "k",
    start: async () => ({ stop: async () => (await gate, void log.push("stop old k")) }),
  };
  const supervisor = new Supervisor({ name: "s", clock: new ManualClock() }, [first]);
  await supervisor.start();
  const removed = supervisor.remove("k");
  const added = supervisor.add(testChild("k", log).spec);
  await settle();
  assert.deepEqual(log, []);
  release();
  await Promise.all([removed, added]);
  assert.deepEqual(log, ["stop old k", "start k"]);
});
