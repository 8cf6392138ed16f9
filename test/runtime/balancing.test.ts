import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import { defineActor, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/** Every `work` handler waits on the gate, so in-flight work piles up where it was sent. */
let release!: () => void;
let gate = Promise.resolve();
const closeGate = () => (gate = new Promise<void>((r) => (release = r)));
const ranOn: string[] = [];

const Work = defineActor({
  kind: "work",
  placement: "pooled",
  concurrency: 4,
  mailbox: { capacity: 64 },
  messages: { work: z.object({ i: z.number() }) },
  create: (ctx) => ({
    work: async () => {
      ranOn.push(ctx.nodeId);
      await gate;
      return ctx.nodeId;
    },
  }),
});

let server: NatsServer;
let a: ActorSystem;
let b: ActorSystem;

before(async () => {
  server = await startTestServer();
  a = await startTestSystem(server.url, [Work], { nodeId: "bal-a" });
  b = await startTestSystem(server.url, [Work], { nodeId: "bal-b" });
  await waitFor("each node sees the other's pool", () => a.membership.pools("work", "bal-a").length === 1 && b.membership.pools("work", "bal-b").length === 1);
});

after(async () => {
  release?.();
  await Promise.all([a?.shutdown(), b?.shutdown()]);
  await server?.stop();
});

const count = (node: string) => ranOn.filter((n) => n === node).length;

test("balancing - a burst of pooled asks from one node is shared with an idle node by load, not kept local", async () => {
  ranOn.length = 0;
  closeGate();
  const asks = Array.from({ length: 8 }, (_, i) => a.pool(Work).ask({ type: "work", i }));
  await waitFor("all 8 started", () => ranOn.length === 8);
  assert.equal(count("bal-a"), 4, "the local node takes its share");
  assert.equal(count("bal-b"), 4, "the idle node takes the rest, though the local one had free slots for some");
  release();
  const answers = await Promise.all(asks);
  assert.equal(answers.filter((n) => n === "bal-b").length, 4);
});

test("balancing - a draining node is chosen for no new work while it finishes what it has", async () => {
  ranOn.length = 0;
  closeGate();
  const held = b.pool(Work).ask({ type: "work", i: 0 }); // runs on b, which then drains around it
  await waitFor("b holds one", () => count("bal-b") === 1);
  const stopping = b.shutdown();
  await waitFor("a sees b draining", () => a.membership.pools("work", "bal-a").length === 0);
  const asks = Array.from({ length: 6 }, (_, i) => a.pool(Work).ask({ type: "work", i }));
  await waitFor("a's four slots are busy", () => count("bal-a") === 4);
  assert.equal(count("bal-b"), 1, "nothing new went to b");
  release();
  await Promise.all([held, ...asks]);
  await stopping;
  assert.equal(count("bal-a"), 6);
});
