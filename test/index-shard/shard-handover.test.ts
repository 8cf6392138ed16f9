import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ensureShards, IndexSpecSchema, unpackResults, openShardLog, ShardKind, ShardLogWriter, shardActor, shardKey, shardLogEnds, waitForShards } from "../../actors/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";
import { axis } from "./random-vectors.js";

const spec = IndexSpecSchema.parse({ name: "moving", shards: 3, replicas: 2, dimension: 4 });
const keys = Array.from({ length: spec.shards }, (_, s) => [0, 1].map((r) => shardKey("moving", s, r))).flat();

let server: NatsServer;
let dir: string;
let a: ActorSystem;
let b: ActorSystem | undefined;

before(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), "colmena-handover-"));
  a = await node("shards-a");
});

after(async () => {
  await Promise.all([a?.shutdown(), b?.shutdown()]);
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const node = (id: string) => startTestSystem(server.url, [shardActor({ dataDir: join(dir, id), indexes: [spec] })], { nodeId: id });

function holders(): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of [a, b]) for (const k of s?.stats().kinds ?? []) if (k.kind === ShardKind.kind) for (const act of k.activations) out.set(act.key, s!.nodeId);
  return out;
}

/** Each chunk's vector its own (an axis, nudged by its number): among many equal vectors HNSW may miss some of them, and a search for one must find it. */
const vectorOf = (n: number) => {
  const v = Float32Array.from(axis(4, n % 4));
  v[(n + 1) % 4] = n / 1_000;
  return v;
};
const chunk = (s: number, n: number) => ({ id: `d${s}-${n}#0`, docId: `d${s}-${n}`, text: `document ${s} ${n}`, vector: vectorOf(n), metadata: {} });

test("shard handover - when a second shard node joins, one replica of each shard moves to it, each only after its snapshot there caught up with the log, while every search is answered and every write applied", async () => {
  await ensureShards(a, spec);
  assert.deepEqual(new Set(holders().values()), new Set(["shards-a"]), "a node alone holds every replica");

  const writer = new ShardLogWriter(await openShardLog(a.storage));
  let written = 0;
  const write = async () => {
    const n = written++;
    await Promise.all(Array.from({ length: spec.shards }, (_, s) => writer.append("moving", s, [{ op: "upsert", chunk: chunk(s, n) }])));
  };
  for (let i = 0; i < 20; i++) await write();
  await waitForShards(a.storage, a, spec);
  const endsBeforeJoin = await shardLogEnds(a.storage, spec);

  // Searches and writes go on while the replicas move; a search must never fail.
  let searches = 0;
  const failures: string[] = [];
  let busy = true;
  const traffic = (async () => {
    while (busy) {
      await Promise.all(
        keys.map((key) =>
          a
            .ref(ShardKind, key)
            .ask({ type: "search", vector: axis(4, 1), k: 3 }, { timeoutMs: 10_000 })
            .then(() => void searches++, (err: Error) => void failures.push(`${key}: ${err.message}`)),
        ),
      );
      await write();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  b = await node("shards-b");
  try {
    await waitFor(
      "one replica of every shard on each node",
      () => {
        const h = holders();
        return keys.every((k) => h.has(k)) && Array.from({ length: spec.shards }, (_, s) => h.get(shardKey("moving", s, 0)) !== h.get(shardKey("moving", s, 1))).every(Boolean);
      },
      30_000,
    );
  } finally {
    busy = false;
    await traffic;
  }
  const placed = holders();
  const moved = keys.filter((k) => placed.get(k) === "shards-b");
  assert.equal(moved.length, spec.shards, `exactly one replica per shard moved: ${moved.join(", ")}`);
  assert.deepEqual(failures, [], `searches failed during the handover (${searches} answered)`);
  assert.ok(searches > 0);

  // Each moved replica started on b from a snapshot taken there at or after the log's end when b joined:
  // it caught up before it took the key, instead of replaying the log inside a search.
  for (const key of moved) {
    const stats = await b.ref(ShardKind, key).ask({ type: "stats" });
    assert.ok(stats.loadedSeq >= endsBeforeJoin[stats.shard]!, `${key} started on b from seq ${stats.loadedSeq}, the log ended at ${endsBeforeJoin[stats.shard]} when b joined`);
    // What it loaded is searchable, by text and by vector, writes from before the move included.
    const found = unpackResults(await b.ref(ShardKind, key).ask({ type: "search", text: `document ${stats.shard} 3`, vector: Array.from(vectorOf(3)), k: 40 }));
    assert.ok(found.bm25.some((h) => h.id === `d${stats.shard}-3#0`), `${key}: a text search finds an early write`);
    assert.ok(found.vector.some((h) => h.id === `d${stats.shard}-3#0`), `${key}: a vector search finds an early write`);
  }
  // Every write, those made during the move included, is applied by every replica.
  const stats = await waitForShards(a.storage, a, spec);
  for (const st of stats) assert.equal(st.size, written, `${shardKey(st.index, st.shard, st.replica)} holds every write`);

  // Moves are done: nothing goes back and forth.
  await new Promise((r) => setTimeout(r, 5_000));
  assert.deepEqual(holders(), placed, "the placement stays as it is once every key is at its place");
});
