import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RuntimeConfigSchema } from "../../runtime/index.js";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { everyAcknowledgedSearchable, startClusterNodes, steadyWithLoss, type ClusterNodes } from "../helpers/cluster-nodes.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Black box, as server-loss.test.ts, but the node process that holds the
 * most shard replicas (read from the placement directory) is SIGKILLed:
 * its replicas reactivate on the survivors once its lease lapses (snapshot
 * plus log replay), every acknowledged document stays searchable, and the
 * time from the kill until every one of its replicas is placed on a
 * survivor is reported.
 */
let c: ClusterNodes;
let nc: NatsConnection;
before(async () => {
  // Two replicas: the one left answers while the lost one's lease runs out.
  c = await startClusterNodes({ replicas: 2 });
  nc = await connect({ servers: c.cluster.urls });
});
after(async () => {
  await nc?.close();
  await c?.stop();
});

/** Shard replica key → the node its placement entry names. */
async function shardOwners(): Promise<Map<string, string>> {
  const kv = await new Kvm(nc).open("colmena_placement");
  const owners = new Map<string, string>();
  for await (const key of await kv.keys("index-shard.>")) {
    const e = await kv.get(key);
    if (e?.operation === "PUT") owners.set(key, new TextDecoder().decode(e.value));
  }
  return owners;
}

/** The process a node id belongs to: a bridge node's actors run in its worker thread as `<id>-a<i>`. */
const processOf = (owner: string, ids: string[]) => ids.findIndex((id) => owner === id || owner.startsWith(`${id}-a`));

test("node loss - the node holding the most shard replicas SIGKILLed under steady questions: its replicas reactivate on survivors, every acknowledged write searchable", async (t) => {
  const before = await shardOwners();
  const count = (i: number) => [...before.values()].filter((o) => processOf(o, c.ids) === i).length;
  const v = [0, 1, 2].reduce((a, b) => (count(b) > count(a) ? b : a));
  t.diagnostic(`shard replicas per node before: ${c.ids.map((id, i) => `${id} ${count(i)}`).join(", ")}; killing ${c.ids[v]}`);
  assert.ok(count(v) > 0, `some node holds shard replicas (${[...before.values()].join(", ")})`);
  const theirs = [...before].filter(([, o]) => processOf(o, c.ids) === v).map(([k]) => k);
  const bridges = c.nodes.slice(0, 2).filter((_, i) => i !== v).map((n) => n.httpUrl);
  let killedAt = 0;
  // Polled from the kill on, beside the questions: when every replica it held is placed on a survivor.
  const placed = (async () => {
    await waitFor("the kill", () => killedAt > 0, 60_000);
    await waitFor(
      `every replica ${c.ids[v]} held is placed on a survivor`,
      async () => {
        const now = await shardOwners();
        return theirs.every((k) => now.has(k) && processOf(now.get(k)!, c.ids) !== v);
      },
      90_000,
    );
    return Date.now();
  })();
  await steadyWithLoss(t, c, bridges, 15_000, () => {
    killedAt = Date.now();
    c.nodes[v]!.child.kill("SIGKILL");
  });
  t.diagnostic(`the ${theirs.length} shard replica(s) of ${c.ids[v]} were placed on a survivor ${(await placed) - killedAt} ms after the kill (membership lease ${RuntimeConfigSchema.parse({}).runtime.leaseMs} ms)`);
  await everyAcknowledgedSearchable(t, c, bridges);
});
