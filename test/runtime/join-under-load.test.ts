import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { z } from "zod";
import { defineActor, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/** Where each ask ran, in the order they started, when, and when its caller sent it. */
const ran: Array<{ node: string; at: number; sentAt: number }> = [];

const Work = defineActor({
  kind: "join-work",
  placement: "pooled",
  concurrency: 4,
  mailbox: { capacity: 256 },
  messages: { work: z.object({ i: z.number(), sentAt: z.number() }) },
  create: (ctx) => ({
    work: async (m: { sentAt: number }) => {
      ran.push({ node: ctx.nodeId, at: Date.now(), sentAt: m.sentAt });
      await sleep(50);
      return ctx.nodeId;
    },
  }),
});

let server: NatsServer;
let caller: ActorSystem;
let joiner: ActorSystem | undefined;

before(async () => {
  server = await startTestServer();
  caller = await startTestSystem(server.url, [Work], { nodeId: "join-caller" });
});

after(async () => {
  await Promise.all([caller?.shutdown(), joiner?.shutdown()]);
  await server?.stop();
});

/** 16 callers in a closed loop against the caller node's 4 slots: saturated the whole time. */
function steadyLoad(): { answered: () => number; stop: () => Promise<void> } {
  let stopped = false;
  let answered = 0;
  const loops = Array.from({ length: 16 }, async (_, w) => {
    for (let i = 0; !stopped; i++) {
      await caller.pool(Work).ask({ type: "work", i: w * 1_000 + i, sentAt: Date.now() }, { timeoutMs: 30_000 });
      answered++;
    }
  });
  return { answered: () => answered, stop: async () => void ((stopped = true), await Promise.all(loops)) };
}

test("joining - a node that joins while the only other one is saturated takes a share of the work as soon as its first heartbeat is seen", async (t) => {
  const load = steadyLoad();
  await waitFor("the load runs", () => load.answered() >= 32, 60_000);
  const startedAt = Date.now();
  joiner = await startTestSystem(server.url, [Work], { nodeId: "join-new" });
  await waitFor("the caller sees the new node", () => caller.membership.pools(Work.kind, caller.nodeId).length === 1, 30_000);
  const seenAt = Date.now();
  const seenIndex = ran.length;
  await waitFor("the new node has run work", () => ran.some((r) => r.node === "join-new"), 30_000);
  const firstWork = ran.find((r) => r.node === "join-new")!.at;
  // Let some 64 more asks start after the join was seen, then look at where they ran.
  await waitFor("64 more asks started", () => ran.length >= seenIndex + 64, 60_000);
  await load.stop();
  const after = ran.slice(seenIndex, seenIndex + 64);
  const onNew = after.filter((r) => r.node === "join-new").length;
  t.diagnostic(`first work on the joining node ${firstWork - startedAt} ms after it started, ${firstWork - seenAt} ms after the caller saw its heartbeat; ${onNew} of the next 64 asks ran there`);
  // Its 4 slots against the caller's 4: a fair share is half; a quarter is a generous floor that no longer depends on timing.
  assert.ok(onNew >= 16, `the joining node took ${onNew} of 64 asks started after it was seen`);
});

test("draining - under the same load, a node that announces its drain is sent nothing once the caller has seen the announcement, and finishes what it had", async (t) => {
  assert.ok(joiner, "the joining node is up");
  const load = steadyLoad();
  await waitFor("the joined node has work", () => ran.filter((r) => r.node === "join-new").length >= 8, 60_000);
  const stopping = joiner.shutdown();
  await waitFor("the caller sees the drain", () => caller.membership.pools(Work.kind, caller.nodeId).length === 0, 30_000);
  const seenAt = Date.now();
  const seenIndex = ran.length;
  await waitFor("64 more asks started", () => ran.length >= seenIndex + 64, 60_000);
  await load.stop();
  await stopping;
  joiner = undefined;
  const late = ran.filter((r) => r.node === "join-new" && r.sentAt > seenAt);
  t.diagnostic(`${ran.slice(seenIndex).filter((r) => r.node === "join-new").length} asks sent before the drain was seen still started on the draining node after it`);
  assert.deepEqual(late, [], "nothing sent after the drain was seen ran on the draining node");
  assert.ok(ran.slice(seenIndex).every((r) => r.node === "join-caller" || r.sentAt <= seenAt));
});
