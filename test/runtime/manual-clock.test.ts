import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import type { NatsServer } from "../../nats/index.js";
import { defineActor, isColmenaError, ManualClock, type ActorSystem } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

// Every timer of these systems is on a ManualClock: time passes only when a test says so.
// waitFor polls for the effects of NATS round trips, which take real time; no test waits for a timer to fire on its own.

const stopped: string[] = [];
const Counter = defineActor({
  kind: "clocked-counter",
  placement: "keyed",
  idleMs: 1_000,
  messages: { inc: z.object({}) },
  create: (ctx) => {
    let n = 0;
    return {
      inc: () => ++n,
      onStop: (reason: string) => void stopped.push(`${ctx.key}:${reason}`),
    };
  },
});

let release: (() => void) | undefined;
const Gate = defineActor({
  kind: "clocked-gate",
  placement: "pooled",
  concurrency: 1,
  messages: {
    /** Holds the instance until the test releases it. */
    hold: z.object({}),
    /** Answers what is left of its deadline, and the deadline an ask it makes inherits. */
    probe: z.object({}),
  },
  create: () => ({
    hold: () => new Promise<string>((resolve) => (release = () => resolve("released"))),
    probe: async (_m, call) => ({ deadline: call.deadline, remaining: call.remainingMs(), inner: await call.refs.pool(Deadline).ask({ type: "deadline" }) }),
  }),
});

const Hang = defineActor({
  kind: "clocked-hang",
  placement: "pooled",
  messages: { hang: z.object({}) },
  create: () => ({ hang: () => new Promise<never>(() => {}) }),
});

const Deadline = defineActor({
  kind: "clocked-deadline",
  placement: "pooled",
  messages: { deadline: z.object({}) },
  create: () => ({ deadline: (_m, call) => call.deadline }),
});

/** Shuts a system down, moving its clock on while the shutdown waits (grace periods, drain timers). */
async function shutdownOnClock(system: ActorSystem | undefined, clock: ManualClock): Promise<void> {
  if (!system) return;
  let done = false;
  const stopping = system.shutdown().finally(() => (done = true));
  while (!done) {
    clock.advance(1_000);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await stopping;
}

describe("runtime - an ActorSystem on a manual clock", () => {
  let server: NatsServer;
  let clock: ManualClock;
  let system: ActorSystem;
  let watcher: ActorSystem;
  let watcherClock: ManualClock;

  before(async () => {
    server = await startTestServer();
    clock = new ManualClock(Date.now());
    watcherClock = new ManualClock(Date.now());
    // Leases far longer than the test: the server's own expiry of membership entries never comes into it.
    const flags = { "runtime.heartbeatMs": 20_000, "runtime.leaseMs": 60_000, "runtime.askTimeoutMs": 5_000 };
    system = await startTestSystem(server.url, [Counter, Gate, Hang, Deadline], { nodeId: "clocked", clock, flags });
    watcher = await startTestSystem(server.url, [], { nodeId: "watcher", clock: watcherClock, flags });
  });
  after(async () => {
    await shutdownOnClock(watcher, watcherClock);
    // The hanging message holds its instance: shutdown waits out the grace period, on the node's clock.
    await shutdownOnClock(system, clock);
    await server?.stop();
  });

  test("runtime - a keyed actor passivates after idleMs of its node's clock", async () => {
    const ref = system.ref(Counter, "k1");
    assert.equal(await ref.ask({ type: "inc" }), 1);
    clock.advance(999);
    assert.equal(stopped.length, 0, "not idle long enough");
    clock.advance(1_001);
    await waitFor("passivated", () => stopped.some((s) => s.startsWith("k1:")));
    assert.equal(system.stats().kinds.find((k) => k.kind === "clocked-counter")!.activations.length, 0);
    assert.equal(await ref.ask({ type: "inc" }), 1, "a new activation, from no saved state");
  });

  test("runtime - an ask that nobody answers fails when its deadline passes on the clock", async () => {
    const pending = system.pool(Hang).ask({ type: "hang" }, { timeoutMs: 1_000 });
    let settled = false;
    pending.catch(() => {}).finally(() => (settled = true));
    clock.advance(999);
    await Promise.resolve();
    assert.equal(settled, false);
    clock.advance(1);
    await assert.rejects(pending, (e) => isColmenaError(e, "TIMEOUT"));
  });

  test("runtime - a message whose deadline passes in the mailbox is dropped before it starts", async () => {
    const expired = () => system.stats().kinds.find((k) => k.kind === "clocked-gate")!.activations[0]!.expired;
    const expiredBefore = expired();
    const held = system.pool(Gate).ask({ type: "hold" }, { timeoutMs: 60_000 });
    await waitFor("the gate is held", () => release !== undefined);
    const queued = system.pool(Gate).ask({ type: "probe" }, { timeoutMs: 500 });
    queued.catch(() => {});
    clock.advance(500);
    await assert.rejects(queued, (e) => isColmenaError(e, "TIMEOUT"));
    release!();
    assert.equal(await held, "released");
    await waitFor("the queued probe reached the front", () => expired() === expiredBefore + 1);
  });

  test("runtime - a handler's asks inherit its deadline, one value on the node's clock", async () => {
    const before = clock.now();
    const out = await system.pool(Gate).ask({ type: "probe" }, { timeoutMs: 3_000 });
    assert.equal(out.deadline, before + 3_000);
    assert.equal(out.remaining, 3_000, "no time passes on a manual clock unless the test moves it");
    assert.equal(out.inner, out.deadline, "the inner ask carries the same deadline");
    const defaulted = await system.pool(Gate).ask({ type: "probe" });
    assert.equal(defaulted.deadline, clock.now() + 5_000, "a send from outside any call gets runtime.askTimeoutMs");
  });

  test("runtime - a node that stops beating leaves another node's view after the lease on that node's clock", async () => {
    await waitFor("the watcher sees the node", () => watcher.membership.nodes().some((n) => n.id === "clocked"));
    // The node's own clock stands still, so it beats no more; only the watcher's time moves.
    // The watcher sweeps its view after each of its own heartbeats (a KV put, so the sweep comes a round trip later).
    let beats = 0;
    watcher.membership.on("update", (info: { id: string }) => info.id === "watcher" && beats++);
    watcherClock.advance(59_000);
    await waitFor("a watcher beat within the lease", () => beats >= 1);
    assert.ok(watcher.membership.nodes().some((n) => n.id === "clocked"), "still within the lease");
    watcherClock.advance(21_000);
    await waitFor("past the lease: gone", () => !watcher.membership.nodes().some((n) => n.id === "clocked"));
  });
});
