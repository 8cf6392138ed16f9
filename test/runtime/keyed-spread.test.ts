import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import { defineActor, type ActorSystem } from "../../runtime/index.js";
import { preferredNode, rendezvousOrder } from "../../runtime/cluster/rendezvous.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/** Keys `g<group>-r<rank>`: the ranks of one group belong on different nodes. */
const Replica = defineActor({
  kind: "replica",
  placement: "keyed",
  idleMs: Infinity,
  messages: { where: z.object({}) },
  create: (ctx) => ({ where: () => ctx.nodeId }),
  spread: (key) => {
    const [group, rank] = key.split("-r");
    return { group: group!, rank: Number(rank) };
  },
});

let server: NatsServer;
let a: ActorSystem;
let b: ActorSystem;
let client: ActorSystem;

before(async () => {
  server = await startTestServer();
  a = await startTestSystem(server.url, [Replica], { nodeId: "spread-a" });
  b = await startTestSystem(server.url, [Replica], { nodeId: "spread-b" });
  client = await startTestSystem(server.url, [], { nodeId: "spread-client" });
  await waitFor("both nodes see both hosts", () => a.membership.hostsOf("replica").length === 2 && b.membership.hostsOf("replica").length === 2);
});

after(async () => {
  await Promise.all([client?.shutdown(), a?.shutdown(), b?.shutdown()]);
  await server?.stop();
});

test("keyed spread - rendezvous order is the same everywhere, and a node leaving moves only the groups it held", () => {
  const nodes = ["n1", "n2", "n3", "n4"];
  const groups = Array.from({ length: 200 }, (_, i) => `g${i}`);
  assert.deepEqual(rendezvousOrder("g1", nodes), rendezvousOrder("g1", [...nodes].reverse()));
  const before = groups.map((g) => preferredNode(g, undefined, nodes));
  const after = groups.map((g) => preferredNode(g, undefined, nodes.filter((n) => n !== "n2")));
  for (let i = 0; i < groups.length; i++) if (before[i] !== "n2") assert.equal(after[i], before[i], `${groups[i]} stayed`);
  const counts = nodes.map((n) => before.filter((p) => p === n).length);
  assert.ok(Math.min(...counts) >= 30, `spread over every node: ${counts.join(", ")}`);
});

test("keyed spread - keys activated from anywhere land on their place: the two ranks of every group on different nodes", async () => {
  const groups = Array.from({ length: 6 }, (_, i) => `g${i}`);
  const placed = new Map<string, string>();
  for (const g of groups) {
    for (const r of [0, 1]) {
      const from = [client, a, b][(groups.indexOf(g) + r) % 3]!; // asked from a non-host and from each host
      placed.set(`${g}-r${r}`, await from.ref(Replica, `${g}-r${r}`).ask({ type: "where" }));
    }
  }
  for (const g of groups) assert.notEqual(placed.get(`${g}-r0`), placed.get(`${g}-r1`), `${g}'s replicas apart`);
  assert.deepEqual(new Set(placed.values()), new Set(["spread-a", "spread-b"]));
  for (const [key, node] of placed) assert.equal(node, preferredNode(key, Replica.spread, ["spread-a", "spread-b"]));
});
