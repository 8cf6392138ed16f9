import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { Counter, Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Two nodes of one process linked as `colmena up` links its main thread to
 * its actor thread (the ports work the same between two threads): pooled
 * asks from the caller to the host go over the port, never through NATS.
 */
describe("runtime - thread link", () => {
  let server: NatsServer;
  let tap: NatsConnection;
  let host: ActorSystem;
  let caller: ActorSystem;
  let callerPort: MessagePort;
  let hostPort: MessagePort;
  /** Every message NATS carried to the host's pool subjects. */
  const overNats: string[] = [];

  before(async () => {
    server = await startTestServer();
    tap = await connect({ servers: server.url });
    tap.subscribe("colmena.node.linked-host.pool.>", { callback: (_e, m) => void overNats.push(m.subject) });
    tap.subscribe("colmena.pool.echo", { callback: (_e, m) => void overNats.push(m.subject) });
    ({ port1: callerPort, port2: hostPort } = new MessageChannel());
    host = await startTestSystem(server.url, [Echo, Counter], { nodeId: "linked-host", servePort: hostPort });
    caller = await startTestSystem(server.url, [], { nodeId: "linked-caller", threadLinks: new Map([["linked-host", callerPort]]) });
    // The caller routes to the host once its heartbeat has announced the kind.
    await waitFor("the host to be announced", () => caller.membership.pools("echo", "linked-caller").length > 0);
  });
  after(async () => {
    await caller?.shutdown();
    await host?.shutdown();
    await tap?.close();
    await server?.stop();
  });

  test("thread link - a pooled ask goes over the port and is answered by the other node, with nothing on NATS", async () => {
    const echo = caller.pool(Echo);
    assert.deepEqual(await echo.ask({ type: "echo", value: { a: [1, "x"], f: new Float32Array([0.5]) } }), { a: [1, "x"], f: new Float32Array([0.5]) });
    assert.equal((await echo.ask({ type: "whoami" })).node, "linked-host");
    await tap.flush();
    assert.deepEqual(overNats, []);
    // A message queued for NATS and an ask over the port in the same tick: the port's bytes are a copy of their own, so
    // moving them detaches no buffer the encoder or the NATS client still holds (which failed the connection's next flush).
    for (let i = 0; i < 20; i++) {
      echo.tell({ type: "echo", value: "over NATS" });
      assert.equal(await echo.ask({ type: "echo", value: i }), i);
    }
    const counter = caller.ref(Counter, "after-link");
    counter.tell({ type: "inc", by: 2 });
    await waitFor("the tell over NATS", async () => (await counter.ask({ type: "get" })).n === 2);
  });

  test("thread link - typed errors, bad messages and deadlines come back as over NATS", async () => {
    const echo = caller.pool(Echo);
    await assert.rejects(echo.ask({ type: "fail", code: "NOT_FOUND" }), (e) => isColmenaError(e, "NOT_FOUND") && !e.retryable);
    // The host validates what arrives against the kind's schema, as it does a NATS message.
    await assert.rejects(echo.ask({ type: "slow", ms: -1 } as never), (e) => isColmenaError(e, "INVALID"));
    await assert.rejects(echo.ask({ type: "slow", ms: 2_000 }, { timeoutMs: 100 }), (e) => isColmenaError(e, "TIMEOUT"));
    assert.equal(await echo.ask({ type: "echo", value: 7 }), 7);
  });

  test("thread link - asks waiting when the other end closes fail at once, retryable", async () => {
    const slow = caller.pool(Echo).ask({ type: "slow", ms: 5_000 }, { timeoutMs: 30_000 });
    await waitFor("the slow ask to start", async () => (await host.pool(Echo).ask({ type: "probes" })).slowStarted > 0);
    const started = Date.now();
    hostPort.close();
    await assert.rejects(slow, (e) => isColmenaError(e, "UNAVAILABLE") && e.retryable);
    assert.ok(Date.now() - started < 4_000, "not at the ask's deadline, nor when the handler ends");
  });
});
