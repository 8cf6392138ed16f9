import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isTypedError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startNodeProcess, type NodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/**
 * An ask already at its responder when the responder's process dies: NATS
 * tells the caller nothing, so only the responder's beats (wire.ts) say it
 * was alive. A long ask to a live responder outlasts the silence limit; one
 * whose responder is SIGKILLed is retried on another instance and answered
 * within its deadline, rather than timing out.
 */
describe("responder loss - asks in flight when their responder dies", () => {
  const flags = { "runtime.heartbeatMs": 1_000, "runtime.leaseMs": 120_000 };
  let server: NatsServer;
  const nodes: NodeProcess[] = [];
  let caller: ActorSystem;
  before(async () => {
    server = await startTestServer();
    nodes.push(await startNodeProcess(server.url, ["echo"], "beat-victim", flags));
    caller = await startTestSystem(server.url, [], { nodeId: "beat-caller", flags });
  });
  after(async () => {
    await caller?.shutdown();
    await Promise.all(nodes.map((p) => p.kill()));
    await server?.stop();
  });

  test("responder loss - an ask that takes longer than the silence limit is answered: its responder beats", async () => {
    assert.equal(await caller.pool(Echo).ask({ type: "slow", ms: 7_000 }, { timeoutMs: 60_000 }), 7_000);
  });

  test("responder loss - a stream whose chunks come further apart than the silence limit is read to its end: its producer beats", async () => {
    const chunks: number[] = [];
    for await (const c of caller.pool(Echo).stream({ type: "count", n: 2, everyMs: 6_000 }, { timeoutMs: 60_000 })) chunks.push(c);
    assert.deepEqual(chunks, [0, 1]);
  });

  test("responder loss - a pooled ask whose responder is SIGKILLed while working on it is retried on another instance and answered", async () => {
    const victim = nodes[0]!;
    const started = async () => (await caller.pool(Echo).ask({ type: "probes" })).slowStarted;
    const before = await started();
    let answeredAt = 0;
    const answer = caller.pool(Echo).ask({ type: "slow", ms: 8_000 }, { timeoutMs: 60_000 });
    void answer.then(() => (answeredAt = Date.now()), () => undefined);
    await waitFor("the victim is working on the ask", async () => (await started()) > before, 10_000);
    nodes.push(await startNodeProcess(server.url, ["echo"], "beat-survivor", flags));
    await victim.kill();
    assert.equal(answeredAt, 0, "the victim had not answered yet when it was killed");
    assert.equal(await answer, 8_000);
  });

  test("responder loss - a stream whose producer is SIGKILLed after its first chunk fails as a lost responder within the silence limit, not at its deadline", async () => {
    const producer = nodes.at(-1)!;
    const stream = caller.pool(Echo).stream({ type: "count", n: 100, everyMs: 500 }, { timeoutMs: 60_000 });
    const it = stream[Symbol.asyncIterator]();
    assert.equal((await it.next()).value, 0);
    await producer.kill();
    const failure = await (async () => {
      for (;;) if ((await it.next()).done) return undefined;
    })().catch((err: unknown) => err);
    assert.ok(isTypedError(failure) && failure.code === "UNAVAILABLE" && failure.details?.responderLost === true, `a lost responder, not ${String(failure)}`);
  });
});
