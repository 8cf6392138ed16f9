import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ColmenaError, defineActor, isColmenaError, ManualClock, ScopedSignal, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

const timeout = () => new ColmenaError("TIMEOUT", "time is up");

describe("runtime - ScopedSignal", () => {
  test("aborts with its reason when the time is up", () => {
    const clock = new ManualClock();
    const scoped = new ScopedSignal(clock, 5, timeout);
    clock.advance(4);
    assert.equal(scoped.signal.aborted, false);
    clock.advance(1);
    assert.ok(scoped.signal.aborted);
    assert.ok(isColmenaError(scoped.signal.reason, "TIMEOUT"));
  });

  test("aborts with a parent's reason, also one aborted before", () => {
    const parent = new AbortController();
    const clock = new ManualClock();
    const scoped = new ScopedSignal(clock, Infinity, timeout, [parent.signal]);
    assert.equal(clock.pending(), 0, "no deadline, no timer");
    parent.abort("gone");
    assert.equal(scoped.signal.reason, "gone");
    assert.equal(new ScopedSignal(clock, Infinity, timeout, [parent.signal]).signal.reason, "gone");
  });

  test("dispose leaves no timer and no listener behind", () => {
    const parent = new AbortController();
    const clock = new ManualClock();
    const scoped = new ScopedSignal(clock, 5, timeout, [parent.signal]);
    assert.equal(getEventListeners(parent.signal, "abort").length, 1);
    assert.equal(clock.pending(), 1);
    scoped.dispose();
    assert.equal(getEventListeners(parent.signal, "abort").length, 0);
    assert.equal(clock.pending(), 0);
    clock.advance(30);
    parent.abort();
    assert.equal(scoped.signal.aborted, false);
  });
});

/** Hands out the signal of every call it answers, and can outlive its caller's deadline. */
const seen: AbortSignal[] = [];
const Keeper = defineActor({
  kind: "keeper",
  placement: "pooled",
  concurrency: 8,
  messages: { keep: z.object({ holdMs: z.number() }), items: z.object({}) },
  create: () => ({
    keep: async (m: { holdMs: number }, call) => {
      seen.push(call.signal);
      await sleep(m.holdMs);
      return call.signal.aborted;
    },
    async *items(_m: object, call) {
      seen.push(call.signal);
      yield 1;
      yield 2;
    },
  }),
});

describe("runtime - a call's signal", () => {
  let server: NatsServer;
  let system: ActorSystem;
  before(async () => {
    server = await startTestServer();
    system = await startTestSystem(server.url, [Keeper]);
  });
  after(async () => {
    await system.shutdown();
    await server.stop();
  });

  test("aborts at the deadline while the handler runs", async () => {
    const waiting = system.pool(Keeper).ask({ type: "keep", holdMs: 150 }, { timeoutMs: 40 });
    await assert.rejects(waiting, (err) => isColmenaError(err, "TIMEOUT"));
    await sleep(150);
    assert.ok(seen.at(-1)!.aborted);
  });

  test("is let go once the message is answered: it never aborts after", async () => {
    assert.equal(await system.pool(Keeper).ask({ type: "keep", holdMs: 0 }, { timeoutMs: 40 }), false);
    const answered = seen.at(-1)!;
    const streamed: number[] = [];
    for await (const n of system.pool(Keeper).stream({ type: "items" }, { timeoutMs: 40 })) streamed.push(n);
    assert.deepEqual(streamed, [1, 2]);
    await sleep(100);
    assert.equal(answered.aborted, false, "an answered ask's deadline timer was cleared");
    assert.equal(seen.at(-1)!.aborted, false, "an ended stream's deadline timer was cleared");
  });
});
