import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { IndexSpecSchema, openShardLog, ShardKind, ShardLogWriter, shardKey, waitForShards, type ShardWrite } from "../../actors/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startScript, type ScriptProcess } from "../helpers/script-process.js";
import { startTestSystem } from "../helpers/system.js";
import { prng } from "./random-vectors.js";

const script = fileURLToPath(new URL("../fixtures/retrieval/shard-node.js", import.meta.url));
const spec = IndexSpecSchema.parse({ name: "crash", shards: 1, replicas: 1, dimension: 8 });
const key = shardKey("crash", 0, 0);
const WRITES = 600;
const CHUNKS = 120;

let server: NatsServer;
let dataDir: string;
let client: ActorSystem;
const children: ScriptProcess[] = [];

const startShardNode = async (nodeId: string) => {
  const p = await startScript(script, [server.url, dataDir, nodeId, JSON.stringify(spec)]);
  children.push(p);
  return p;
};

/** A seeded mix of upserts (each with a new version), chunk deletes and document deletes over 120 chunks of 24 documents. */
function makeWrites(): ShardWrite[] {
  const random = prng(7);
  return Array.from({ length: WRITES }, (_, version): ShardWrite => {
    const n = Math.floor(random() * CHUNKS);
    const docId = `doc${n % 24}`;
    const roll = random();
    if (roll < 0.1) return { op: "delete", chunkId: `c${n}` };
    if (roll < 0.13) return { op: "deleteDocument", docId };
    const vector = Float32Array.from({ length: 8 }, () => random() * 2 - 1);
    return { op: "upsert", chunk: { id: `c${n}`, docId, text: `chunk ${n} version ${version}`, vector, metadata: { version } } };
  });
}

/** What the shard must hold after applying `writes` in order: chunk id → version. */
function fold(writes: readonly ShardWrite[]): Map<string, number> {
  const live = new Map<string, { docId: string; version: number }>();
  for (const w of writes) {
    if (w.op === "upsert") live.set(w.chunk.id, { docId: w.chunk.docId, version: w.chunk.metadata.version as number });
    else if (w.op === "delete") live.delete(w.chunkId);
    else for (const [id, c] of live) if (c.docId === w.docId) live.delete(id);
  }
  return new Map([...live].map(([id, c]) => [id, c.version]));
}

before(async () => {
  server = await startTestServer();
  dataDir = await mkdtemp(join(tmpdir(), "colmena-crash-"));
  client = await startTestSystem(server.url, []); // hosts nothing: it writes the log and asks the shard node
  await openShardLog(client.storage);
});

after(async () => {
  for (const c of children) await c.kill();
  await client?.shutdown();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("shard - after a SIGKILL mid-writes, the restarted replica misses no acknowledged write and applies none twice", async () => {
  const first = await startShardNode("shard-a");
  const writes = makeWrites();
  const writer = new ShardLogWriter(await openShardLog(client.storage));
  const shard = client.ref(ShardKind, key);

  // Writes keep arriving in small batches while the replica applies them; it is killed half-way.
  const acked: number[] = [];
  let killedAt: number | undefined;
  for (let i = 0; i < writes.length; i += 10) {
    acked.push(...(await writer.append("crash", 0, writes.slice(i, i + 10))));
    if (killedAt === undefined && i >= WRITES / 2) {
      let stats = await shard.ask({ type: "stats" });
      for (let tries = 0; stats.snapshotSeq === 0 && tries < 200; tries++) stats = await sleep(25).then(() => shard.ask({ type: "stats" }));
      assert.ok(stats.snapshotSeq > 0, "the replica has taken a snapshot before the kill");
      await first.kill();
      killedAt = stats.lastSeq;
    }
  }
  assert.equal(acked.length, WRITES);
  assert.ok(killedAt !== undefined && killedAt < acked.at(-1)!, "the replica died before the log's end");

  await startShardNode("shard-b"); // takes the key over once shard-a's lease lapses
  const [stats] = await waitForShards(client.storage, client, spec, { timeoutMs: 20_000 });
  assert.ok(stats!.loadedSeq > 0 && stats!.loadedSeq <= killedAt!, `restarted from a snapshot taken before the kill (${stats!.loadedSeq})`);
  assert.equal(stats!.lastSeq, acked.at(-1));
  assert.equal(stats!.applied, acked.filter((seq) => seq > stats!.loadedSeq).length, "each write after the snapshot applied exactly once");
  assert.equal(stats!.skipped, 0);
  assert.equal(stats!.rejected, 0);

  const expected = fold(writes);
  assert.equal(stats!.size, expected.size);
  const held = await shard.ask({ type: "get", ids: Array.from({ length: CHUNKS }, (_, n) => `c${n}`) });
  assert.deepEqual(new Map(held.map((c) => [c.id, c.metadata.version])), expected);
});
