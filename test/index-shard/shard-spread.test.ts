import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ensureShards, IndexSpecSchema, openShardLog, ShardKind, ShardLogWriter, shardActor, shardKey, waitForShards } from "../../actors/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";
import { axis } from "./random-vectors.js";

const spec = IndexSpecSchema.parse({ name: "spread", shards: 3, replicas: 2, dimension: 4 });

let server: NatsServer;
let dir: string;
let a: ActorSystem;
let b: ActorSystem;

before(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), "colmena-spread-"));
  const node = (id: string) => startTestSystem(server.url, [shardActor({ dataDir: join(dir, id), indexes: [spec] })], { nodeId: id });
  [a, b] = await Promise.all([node("shards-a"), node("shards-b")]);
  await waitFor("both shard nodes see each other", () => a.membership.hostsOf(ShardKind.kind).length === 2);
});

after(async () => {
  await Promise.all([a?.shutdown(), b?.shutdown()]);
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Which node holds each replica key. */
function holders(...systems: ActorSystem[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of systems) for (const k of s.stats().kinds) if (k.kind === ShardKind.kind) for (const act of k.activations) out.set(act.key, s.nodeId);
  return out;
}

test("shard spread - with two shard nodes up, the two replicas of every shard live on different nodes; after one leaves, the other takes them with every write", async () => {
  await ensureShards(a, spec); // asked from one node, placed on both
  const placed = holders(a, b);
  assert.equal(placed.size, 6);
  for (let s = 0; s < spec.shards; s++) assert.notEqual(placed.get(shardKey("spread", s, 0)), placed.get(shardKey("spread", s, 1)), `shard ${s}'s replicas apart`);

  const writer = new ShardLogWriter(await openShardLog(a.storage));
  for (let s = 0; s < spec.shards; s++) {
    await writer.append("spread", s, [{ op: "upsert", chunk: { id: `d${s}#0`, docId: `d${s}`, text: `document ${s}`, vector: Float32Array.from(axis(4, s)), metadata: {} } }]);
  }
  await waitForShards(a.storage, a, spec);

  await b.shutdown(); // its replicas snapshot, release their keys and leave
  await ensureShards(a, spec);
  assert.deepEqual(new Set(holders(a).values()), new Set(["shards-a"]));
  assert.equal(holders(a).size, 6, "every replica is on the node left");
  const stats = await waitForShards(a.storage, a, spec);
  for (const st of stats) assert.equal(st.size, 1, `${shardKey(st.index, st.shard, st.replica)} holds its shard's write`);
  const hit = await a.ref(ShardKind, shardKey("spread", 1, 1)).ask({ type: "get", ids: ["d1#0"] });
  assert.deepEqual(hit.map((h) => h.id), ["d1#0"]);
});
