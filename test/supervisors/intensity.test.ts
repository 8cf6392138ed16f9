import assert from "node:assert/strict";
import { test } from "node:test";
import { isEscalationError, ManualClock, Supervisor } from "../../supervisors/index.js";
import { eventLog, fixedBackoff, settle, testChild } from "./helpers.js";

function supervise() {
  const log: string[] = [];
  const clock = new ManualClock();
  const { events, onEvent } = eventLog();
  const a = testChild("a", log);
  const supervisor = new Supervisor(
    { name: "s", clock, backoff: fixedBackoff, intensity: { maxRestarts: 3, withinMs: 1_000 }, onEvent },
    [a.spec],
  );
  const reported: unknown[] = [];
  /** Fails `a` and, if a restart follows, waits out its backoff. */
  const failAndRecover = async (): Promise<void> => {
    const seen = events.length;
    a.fail();
    await settle();
    const restarting = events.slice(seen).find((event) => event.type === "child-restarting");
    if (restarting) clock.advance(restarting.delayMs);
    await settle();
  };
  const start = () => supervisor.start((error) => (reported.push(error), "restart"));
  return { log, clock, events, supervisor, reported, start, failAndRecover };
}

test("intensity - maxRestarts restarts within the window are allowed", async () => {
  const { clock, supervisor, reported, start, failAndRecover } = supervise();
  await start();
  for (let i = 0; i < 3; i++) await failAndRecover();
  assert.equal(clock.now(), 10 + 20 + 40);
  assert.equal(supervisor.state, "running");
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "running", restarts: 3 }]);
  assert.deepEqual(reported, []);
});

test("intensity - one failure more within the window escalates", async () => {
  const { log, events, supervisor, reported, start, failAndRecover } = supervise();
  await start();
  for (let i = 0; i < 4; i++) await failAndRecover();
  assert.equal(supervisor.state, "escalated");
  assert.equal(log.at(-1), "stop a");
  assert.deepEqual(supervisor.children(), [{ id: "a", status: "stopped", restarts: 3 }]);
  assert.equal(reported.length, 1);
  assert.ok(isEscalationError(reported[0]));
  assert.match((reported[0] as Error).message, /child "a" failed after 3 restarts within 1000 ms/);
  assert.deepEqual(events.at(-1), { type: "escalated", error: reported[0] });
});

test("intensity - restarts that slid out of the window do not count", async () => {
  const { clock, events, supervisor, reported, start, failAndRecover } = supervise();
  await start();
  for (let i = 0; i < 3; i++) await failAndRecover(); // restarts at 0, 10 and 30
  clock.advance(1_000 - clock.now()); // now 1000: the restart at 0 has left the window
  await failAndRecover();
  assert.equal(supervisor.state, "running");
  assert.deepEqual(reported, []);
  const restarting = events.filter((event) => event.type === "child-restarting");
  assert.deepEqual(restarting.at(-1), { type: "child-restarting", id: "a", delayMs: 40, attempt: 3 });
});
