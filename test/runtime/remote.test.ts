import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import { Counter, Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startNodeProcess, type NodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";
import type { NatsServer } from "../../nats/index.js";

describe("runtime - two processes", () => {
  let server: NatsServer;
  let remote: NodeProcess;
  let caller: ActorSystem;

  before(async () => {
    server = await startTestServer();
    remote = await startNodeProcess(server.url, ["echo", "counter"], "remote-1");
    caller = await startTestSystem(server.url, [], { nodeId: "caller" });
  });
  after(async () => {
    await caller?.shutdown();
    await remote?.stop();
    await server?.stop();
  });

  test("runtime - ask crosses processes and returns the handler's value", async () => {
    const echo = caller.pool(Echo);
    assert.deepEqual(await echo.ask({ type: "echo", value: { a: [1, "x"], f: new Float32Array([0.5]) } }), { a: [1, "x"], f: new Float32Array([0.5]) });
    const who = await echo.ask({ type: "whoami" });
    assert.equal(who.node, "remote-1");
  });

  test("runtime - typed errors cross the wire with their code", async () => {
    await assert.rejects(caller.pool(Echo).ask({ type: "fail", code: "NOT_FOUND" }), (e) => isColmenaError(e, "NOT_FOUND") && !e.retryable);
    await assert.rejects(caller.pool(Echo).ask({ type: "crash" }), (e) => isColmenaError(e, "INTERNAL"));
    assert.equal(await caller.pool(Echo).ask({ type: "echo", value: 7 }), 7, "the crashed actor was restarted and serves again");
  });

  test("runtime - tell reaches the remote actor", async () => {
    const ref = caller.ref(Counter, "told");
    ref.tell({ type: "inc", by: 5 });
    for (let i = 0; i < 100 && (await ref.ask({ type: "get" })).n !== 5; i++) await sleep(10);
    assert.equal((await ref.ask({ type: "get" })).n, 5);
  });

  test("runtime - an ask whose deadline passes gets TIMEOUT, and queued work past its deadline is dropped", async () => {
    const echo = caller.pool(Echo);
    const before = (await echo.ask({ type: "probes" })).slowStarted;
    // four slow calls fill the concurrency; the fifth waits in the mailbox past its deadline
    const slow = [1, 2, 3, 4].map(() => echo.ask({ type: "slow", ms: 300 }, { timeoutMs: 2_000 }));
    await assert.rejects(echo.ask({ type: "slow", ms: 10 }, { timeoutMs: 100 }), (e) => isColmenaError(e, "TIMEOUT"));
    await Promise.all(slow);
    await sleep(50);
    assert.equal((await echo.ask({ type: "probes" })).slowStarted - before, 4, "the expired message never started");
  });

  test("runtime - stream delivers chunks in order and ends", async () => {
    const chunks: number[] = [];
    for await (const c of caller.pool(Echo).stream({ type: "count", n: 100, everyMs: 0 })) chunks.push(c);
    assert.deepEqual(chunks, Array.from({ length: 100 }, (_, i) => i));
  });

  test("runtime - leaving a stream early cancels the producer in the other process", async () => {
    const echo = caller.pool(Echo);
    const before = (await echo.ask({ type: "probes" })).cancelled;
    let seen = 0;
    for await (const _ of echo.stream({ type: "count", n: 1_000_000, everyMs: 1 })) if (++seen === 3) break;
    let cancelled = before;
    for (let i = 0; i < 100 && cancelled === before; i++) {
      await sleep(20);
      cancelled = (await echo.ask({ type: "probes" })).cancelled;
    }
    assert.equal(cancelled, before + 1);
  });

  test("runtime - keyed state persists across calls and graceful restarts of its node", async () => {
    const ref = caller.ref(Counter, "persist");
    assert.equal(await ref.ask({ type: "inc", by: 2 }), 2);
    assert.equal(await ref.ask({ type: "inc", by: 3 }), 5);
    assert.equal(await remote.stop(), 0, "graceful shutdown exits 0");
    remote = await startNodeProcess(server.url, ["echo", "counter"], "remote-2");
    assert.deepEqual(await ref.ask({ type: "get" }), { n: 5, node: "remote-2" });
  });
});
