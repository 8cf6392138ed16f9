import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetStreamManagerOf, jetStreamOf } from "../../nats/index.js";
import {
  ensureShards,
  openShardLog,
  IndexSpecSchema,
  ShardKind,
  ShardLogWriter,
  shardActor,
  shardLogSubject,
  shardKey,
  unpackResults,
  waitForShards,
  type Chunk,
  type ShardWrite,
} from "../../actors/index.js";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { axis } from "./random-vectors.js";

const spec = IndexSpecSchema.parse({ name: "notes", shards: 1, replicas: 1, dimension: 4 });
const key = shardKey("notes", 0, 0);

let server: NatsServer;
let dataDir: string;
let system: ActorSystem;

const startNode = () => startTestSystem(server.url, [shardActor({ dataDir, indexes: [spec], snapshotEveryWrites: 4 })]);
const shard = () => system.ref(ShardKind, key);
/** A search as the coordinator reads it: the packed reply unpacked. */
const search = async (q: { vector?: number[]; text?: string; k: number; filter?: Record<string, string | number | boolean> }) => unpackResults(await shard().ask({ type: "search", ...q }));
const writer = async () => new ShardLogWriter(await openShardLog(system.storage));
const sync = () => waitForShards(system.storage, system, spec, { timeoutMs: 10_000 });

function chunk(id: string, docId: string, text: string, vector: number[], metadata: Chunk["metadata"] = {}): ShardWrite {
  return { op: "upsert", chunk: { id, docId, text, vector: Float32Array.from(vector), metadata } };
}

before(async () => {
  server = await startTestServer();
  dataDir = await mkdtemp(join(tmpdir(), "colmena-shard-"));
  system = await startNode();
  await openShardLog(system.storage);
});

after(async () => {
  await system?.shutdown();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("shard - upserts, searches, filters and deletes arrive through the write log", async () => {
  await ensureShards(system, spec);
  const seqs = await (await writer()).append("notes", 0, [
    chunk("a#0", "a", "jetstream streams keep messages", axis(4, 0), { lang: "en", year: 2024 }),
    chunk("a#1", "a", "consumers acknowledge what they applied", axis(4, 1), { lang: "en", year: 2023 }),
    chunk("b#0", "b", "los streams guardan mensajes", axis(4, 0, 0.1), { lang: "es", year: 2024 }),
    chunk("c#0", "c", "key value buckets expire entries", axis(4, 2), { lang: "en", year: 2022 }),
  ]);
  assert.equal(seqs.length, 4);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), "stored in order");
  await sync();

  const r = await search({ vector: axis(4, 0), text: "streams messages", k: 2 });
  assert.deepEqual(r.vector.map((h) => h.id), ["a#0", "b#0"]);
  assert.ok(Math.abs(r.vector[0]!.score - 1) < 1e-6);
  assert.equal(r.bm25[0]?.id, "a#0");
  assert.deepEqual(r.vector[0]!.metadata, { lang: "en", year: 2024 });

  const es = await search({ vector: axis(4, 0), text: "streams", k: 5, filter: { lang: "es" } });
  assert.deepEqual(es.vector.map((h) => h.id), ["b#0"]);
  assert.deepEqual(es.bm25.map((h) => h.id), ["b#0"]);
  const both = await search({ vector: axis(4, 1), k: 5, filter: { lang: "en", year: 2024 } });
  assert.deepEqual(both.vector.map((h) => h.id), ["a#0"]);

  // Replace a chunk, delete one, delete a whole document.
  await (await writer()).append("notes", 0, [
    chunk("c#0", "c", "object stores hold large files", axis(4, 3), { lang: "en", year: 2025 }),
    { op: "delete", chunkId: "a#1" },
    { op: "deleteDocument", docId: "b" },
  ]);
  await sync();
  const stats = await shard().ask({ type: "stats" });
  assert.equal(stats.size, 2);
  assert.equal(stats.applied, 7);
  assert.equal(stats.rejected, 0);
  assert.equal(stats.catchingUp, false);
  const after = await search({ vector: axis(4, 0), text: "streams consumers buckets object", k: 10 });
  assert.deepEqual(after.vector.map((h) => h.id).sort(), ["a#0", "c#0"]);
  assert.deepEqual(after.bm25.map((h) => h.id).sort(), ["a#0", "c#0"]);
  assert.deepEqual(await shard().ask({ type: "get", ids: ["c#0", "a#1", "b#0"] }).then((c) => c.map((x) => [x.id, x.text])), [["c#0", "object stores hold large files"]]);
});

test("shard - a malformed write is passed over and counted, and the log goes on", async () => {
  const before = await shard().ask({ type: "stats" });
  await (await writer()).append("notes", 0, [chunk("bad#0", "bad", "three numbers", [1, 2, 3]), chunk("d#0", "d", "leaf nodes extend a cluster", axis(4, 1))]);
  await sync();
  const stats = await shard().ask({ type: "stats" });
  assert.equal(stats.rejected, before.rejected + 1);
  assert.equal(stats.size, before.size + 1);
  assert.deepEqual((await shard().ask({ type: "get", ids: ["bad#0", "d#0"] })).map((c) => c.id), ["d#0"]);
});

test("shard - poison entries (a 64-bit op, unknown ops, bytes that are not msgpack) cost one entry each, never the shard", async () => {
  const before = await shard().ask({ type: "stats" });
  const log = await openShardLog(system.storage);
  const subject = shardLogSubject(log, "notes", 0);
  const js = jetStreamOf(system.nc);
  // {op: 2^64 - 1}: msgpack decodes it to a BigInt, which no shard write has.
  await js.publish(subject, Uint8Array.of(0x81, 0xa2, 0x6f, 0x70, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
  await log.append(subject, { op: "truncate" });
  await log.append(subject, [1, 2, 3]);
  await js.publish(subject, Uint8Array.of(0xd9, 0xff, 0x61)); // a string longer than the entry
  await (await writer()).append("notes", 0, [chunk("p#0", "p", "written after the poison", axis(4, 3))]);
  await sync();
  const stats = await shard().ask({ type: "stats" });
  assert.equal(stats.rejected, before.rejected + 3, "the three that decode are passed over by the replica");
  assert.equal(stats.applied, before.applied + 1);
  assert.deepEqual(await shard().ask({ type: "document", docId: "p" }).then((d) => d?.chunks), 1);
  const cell = system.stats().kinds.find((k) => k.kind === "index-shard")!.activations[0]!;
  assert.equal(cell.intakeRefused, 1, "the one that does not decode is passed over by the intake");
  assert.equal(cell.restarts, 0);
});

test("shard - a lost write-log consumer is recreated after lastSeq in place: the replica keeps its index, applies nothing twice, and is not restarted", async () => {
  const before = await shard().ask({ type: "stats" });
  const log = await openShardLog(system.storage);
  await (await jetStreamManagerOf(system.nc)).consumers.delete(log.stream, key);
  assert.ok((await search({ text: "leaf nodes", k: 5 })).bm25.some((h) => h.id === "d#0"), "searches are answered meanwhile");
  await (await writer()).append("notes", 0, [chunk("r#0", "r", "written after the consumer was lost", axis(4, 0))]);
  await sync();
  const stats = await shard().ask({ type: "stats" });
  assert.equal(stats.applied, before.applied + 1, "the new write only");
  assert.equal(stats.skipped, before.skipped);
  assert.equal(stats.loadedSeq, before.loadedSeq, "the same activation: no snapshot was loaded again");
  assert.equal(system.stats().kinds.find((k) => k.kind === "index-shard")!.activations[0]!.restarts, 0);
});

test("shard - a restarted replica loads its snapshot and replays only the writes after it", async () => {
  const before = await shard().ask({ type: "stats" });
  assert.ok(before.snapshotSeq > 0, "snapshots were taken every 4 writes");
  await system.shutdown(); // onStop snapshots the rest
  system = await startTestSystem(server.url, []); // a node without shards: writes wait in the log
  const seqs = await (await writer()).append("notes", 0, [chunk("e#0", "e", "mirrors copy a stream", axis(4, 2)), { op: "deleteDocument", docId: "a" }]);
  await system.shutdown();

  system = await startNode();
  const [restarted] = await ensureShards(system, spec);
  assert.equal(restarted!.loadedSeq, before.lastSeq, "the stop snapshot holds everything applied");
  const stats = (await sync())[0]!;
  assert.equal(stats.lastSeq, seqs[1]);
  assert.equal(stats.applied, 2, "only the two writes after the snapshot were applied");
  assert.equal(stats.skipped, 0);
  assert.equal(stats.size, before.size); // +e#0, -a#0
  assert.deepEqual((await shard().ask({ type: "get", ids: ["a#0", "e#0"] })).map((c) => c.id), ["e#0"]);
});

test("shard - keys that name no configured replica answer NOT_FOUND", async () => {
  for (const bad of ["other-0-r0", "notes-3-r0", "notes-0-r1", "notes"]) {
    await assert.rejects(system.ref(ShardKind, bad).ask({ type: "stats" }, { timeoutMs: 5_000 }), (err) => isColmenaError(err, "NOT_FOUND"), bad);
  }
});
