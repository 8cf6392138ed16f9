import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { Counter } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startNodeProcess, type NodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";

/**
 * A key whose owner's process was SIGKILLed, while the owner's lease (long
 * here, so it cannot lapse during the test) still holds the key: an ask that
 * may fail over (`ownerLost: "fail"`) fails at once, retryable, naming the
 * node; a plain ask waits for the lease, so it meets its own deadline.
 */
describe("owner loss - keyed sends to a key whose owner died", () => {
  const flags = { "runtime.heartbeatMs": 1_000, "runtime.leaseMs": 120_000 };
  let server: NatsServer;
  let nodes: NodeProcess[] = [];
  let caller: ActorSystem;
  before(async () => {
    server = await startTestServer();
    nodes = await Promise.all(["lost-x", "lost-y"].map((id) => startNodeProcess(server.url, ["counter"], id, flags)));
    caller = await startTestSystem(server.url, [], { nodeId: "lost-caller", flags });
  });
  after(async () => {
    await caller?.shutdown();
    await Promise.all(nodes.map((p) => p.kill()));
    await server?.stop();
  });

  test("owner loss - an ask that may fail over fails at once with a retryable UNAVAILABLE naming the dead owner; keys on the survivor still answer; a plain ask waits", async () => {
    // Keys until each node owns one: placement spreads them by rendezvous over the two.
    const owners = new Map<string, string>();
    for (let i = 0; i < 64 && new Set(owners.values()).size < 2; i++) {
      const key = `spread-${i}`;
      await caller.ref(Counter, key).ask({ type: "inc", by: i });
      owners.set(key, (await caller.ref(Counter, key).ask({ type: "get" })).node);
    }
    assert.equal(new Set(owners.values()).size, 2, `both nodes own keys (${[...owners.values()].join(", ")})`);
    const victim = nodes[0]!;
    const survivor = nodes[1]!;
    const victimKey = [...owners].find(([, o]) => o === victim.nodeId)![0];
    const survivorKeys = [...owners].filter(([, o]) => o === survivor.nodeId).map(([k]) => k);
    await victim.kill();

    await assert.rejects(
      caller.ref(Counter, victimKey).ask({ type: "get" }, { timeoutMs: 30_000, ownerLost: "fail" }),
      (e) => isColmenaError(e, "UNAVAILABLE") && e.retryable && e.details?.ownerLost === victim.nodeId,
    );
    for (const key of survivorKeys) assert.equal((await caller.ref(Counter, key).ask({ type: "get" }, { ownerLost: "fail" })).node, survivor.nodeId);
    // The default: the key comes back only after the dead owner's lease, which outlasts this deadline.
    await assert.rejects(caller.ref(Counter, victimKey).ask({ type: "get" }, { timeoutMs: 1_500 }), (e) => isColmenaError(e, "TIMEOUT"));
  });
});
