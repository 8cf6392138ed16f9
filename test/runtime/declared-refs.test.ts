import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import type { NatsServer } from "../../nats/index.js";
import { defineActor, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import { Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

/** Sends to Echo, which it declares, or to the kind it is told to. */
const Caller = defineActor({
  kind: "caller",
  placement: "pooled",
  calls: [Echo.kind],
  messages: { echo: z.object({}), other: z.object({}) },
  create: () => ({
    echo: async (_m, call) => (await call.refs.pool(Echo).ask({ type: "whoami" })).node,
    other: (_m, call) => call.refs.pool(Undeclared).ask({ type: "ping" }),
  }),
});
const Undeclared = defineActor({ kind: "undeclared", placement: "pooled", messages: { ping: z.object({}) }, create: () => ({ ping: () => "pong" }) });

let server: NatsServer;
let system: ActorSystem;
before(async () => {
  server = await startTestServer();
  system = await startTestSystem(server.url, [Caller, Echo, Undeclared], { nodeId: "refs-node" });
});
after(async () => {
  await system?.shutdown();
  await server?.stop();
});

test("refs - a kind that declares calls reaches those kinds", async () => {
  assert.equal(await system.pool(Caller).ask({ type: "echo" }), "refs-node");
});

test("refs - a kind that declares calls is refused a ref to another kind, INVALID naming both and what it declares", async () => {
  await assert.rejects(
    system.pool(Caller).ask({ type: "other" }),
    (err: unknown) => isColmenaError(err) && err.code === "INVALID" && err.message.includes("caller sends to undeclared") && err.message.includes(Echo.kind),
  );
  assert.equal(await system.pool(Undeclared).ask({ type: "ping" }), "pong", "the node's own refs are not limited");
});
