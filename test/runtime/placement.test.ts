import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { defineActor, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { Counter } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startNodeProcess, type NodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";

/** Both nodes live in this process, so their activations can be counted in one place. */
const activations = new Map<string, string[]>();
const Tally = defineActor({
  kind: "tally",
  placement: "keyed",
  messages: { where: z.object({}) },
  create: (ctx) => {
    activations.set(ctx.key, [...(activations.get(ctx.key) ?? []), ctx.nodeId]);
    return { where: () => ctx.nodeId };
  },
});

describe("placement - keyed actors", () => {
  let server: NatsServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("placement - two nodes racing to activate 100 keys make exactly one activation per key", async () => {
    // A lease long enough that a busy machine never fences a node mid-race: the helper's 1 s lease lapsed under load, and a fenced
    // node rightly passivates its keys, failing the asks in flight ("tally/k0 is stopping"). Fencing has tests of its own.
    const flags = { "runtime.heartbeatMs": 1_000, "runtime.leaseMs": 15_000 };
    const [a, b] = await Promise.all([startTestSystem(server.url, [Tally], { nodeId: "race-a", flags }), startTestSystem(server.url, [Tally], { nodeId: "race-b", flags })]);
    try {
      const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
      // each key is asked from both nodes at once; which node sends first alternates
      const answers = await Promise.all(
        keys.flatMap((k, i) => {
          const [first, second] = i % 2 ? [a, b] : [b, a];
          const p1 = first.ref(Tally, k).ask({ type: "where" });
          const p2 = second.ref(Tally, k).ask({ type: "where" });
          return first === a ? [p1, p2] : [p2, p1];
        }),
      );
      for (const [i, k] of keys.entries()) {
        assert.deepEqual(activations.get(k)?.length, 1, `key ${k} activated on ${activations.get(k)}`);
        assert.equal(answers[2 * i], answers[2 * i + 1], `both nodes reach the same activation of ${k}`);
      }
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  test("placement - after SIGKILL of its owner a key comes back on the survivor, after the lease, with its state", async () => {
    const nodes: NodeProcess[] = [await startNodeProcess(server.url, ["counter"], "owner-x"), await startNodeProcess(server.url, ["counter"], "owner-y")];
    const caller: ActorSystem = await startTestSystem(server.url, [], { nodeId: "failover-caller" });
    try {
      const ref = caller.ref(Counter, "survivor");
      for (let i = 0; i < 10; i++) await ref.ask({ type: "inc", by: 1 });
      const { n, node: owner } = await ref.ask({ type: "get" });
      assert.equal(n, 10);
      const victim = nodes.find((p) => p.nodeId === owner)!;
      const survivor = nodes.find((p) => p.nodeId !== owner)!;
      await victim.kill();
      const back = await ref.ask({ type: "get" }, { timeoutMs: 10_000 });
      assert.deepEqual(back, { n: 10, node: survivor.nodeId });
      assert.equal(await ref.ask({ type: "inc", by: 1 }), 11);
    } finally {
      await caller.shutdown();
      await Promise.all(nodes.map((p) => p.kill()));
    }
  });

  test("placement - an idle activation passivates, saves its state and comes back on the next message", async () => {
    const Idle = defineActor({ ...Counter, kind: "idle-counter", idleMs: 100 });
    const a = await startTestSystem(server.url, [Idle], { nodeId: "idle-a" });
    try {
      const ref = a.ref(Idle, "nap");
      await ref.ask({ type: "inc", by: 4 });
      for (let i = 0; i < 100 && a.stats().kinds[0]!.activations.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(a.stats().kinds[0]!.activations.length, 0, "passivated");
      assert.equal(await ref.ask({ type: "inc", by: 1 }), 5);
    } finally {
      await a.shutdown();
    }
  });

  test("placement - initState stores a new key's first state without activating it, once", async () => {
    const Seeded = defineActor({ ...Counter, kind: "seeded-counter" });
    const a = await startTestSystem(server.url, [Seeded], { nodeId: "seed-a" });
    const b = await startTestSystem(server.url, [Seeded], { nodeId: "seed-b" });
    try {
      assert.equal(await b.initState(Seeded, "fresh", 41), true);
      assert.equal(await a.initState(Seeded, "fresh", 7), false, "a key with state keeps it");
      assert.equal(a.stats().kinds[0]!.activations.length + b.stats().kinds[0]!.activations.length, 0, "nothing activated");
      assert.equal(await a.ref(Seeded, "fresh").ask({ type: "inc", by: 1 }), 42, "the first activation loads the stored state");
      await assert.rejects(a.initState(Seeded, "has space", 1), (e) => isColmenaError(e, "INVALID"));
    } finally {
      await b.shutdown();
      await a.shutdown();
    }
  });
});
