import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { z } from "zod";
import {
  CoordinatorKind,
  coordinatorActor,
  embedderActor,
  openShardLog,
  HashEmbedder,
  IndexSpecSchema,
  SHARD_KIND,
  ShardKind,
  ShardLogWriter,
  shardLogSubject,
  shardActor,
  replicaKeys,
  shardKey,
  waitForShards,
  type ShardWrite,
} from "../../actors/index.js";
import { ColmenaError, defineActor, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

const DIM = 32;
const broken = IndexSpecSchema.parse({ name: "q", shards: 4, replicas: 2, dimension: DIM });
const healthy = IndexSpecSchema.parse({ name: "full", shards: 2, replicas: 1, dimension: DIM });
/** Shard 0 of "lagging": replica 0 is a stand-in still catching up (it lacks the write replica 1 holds); "behind" has only such a replica. */
const lagging = IndexSpecSchema.parse({ name: "lagging", shards: 1, replicas: 2, dimension: DIM });
const behind = IndexSpecSchema.parse({ name: "behind", shards: 1, replicas: 1, dimension: DIM });
const indexes = [broken, healthy, lagging, behind];

/** Replicas a second node holds with a stand-in shard: shard 2 never answers in time, shard 3 fails, shard 1's replica 0 fails. */
const SILENT = [shardKey("q", 2, 0), shardKey("q", 2, 1)];
const FAILING = [shardKey("q", 3, 0), shardKey("q", 3, 1), shardKey("q", 1, 0)];
const CATCHING_UP = [shardKey("lagging", 0, 0), shardKey("behind", 0, 0)];

const StandIn = defineActor({
  kind: SHARD_KIND,
  placement: "keyed",
  concurrency: 8,
  idleMs: 60_000,
  messages: { search: z.object({}), stats: z.object({}) },
  create: (ctx) => ({
    search: async (_m: object, call: { signal: AbortSignal }) => {
      if (CATCHING_UP.includes(ctx.key)) {
        const chunks = ctx.key.startsWith("behind") ? [{ id: "old#0", docId: "old", text: "an old chunk", metadata: {} }] : [];
        return { chunks, vector: [], bm25: chunks.map((_, i) => [i, 1]), catchingUp: true };
      }
      if (FAILING.includes(ctx.key)) throw new ColmenaError("UNAVAILABLE", `${ctx.key} is broken`);
      await sleep(30_000, undefined, { signal: call.signal }).catch(() => {});
      throw new ColmenaError("TIMEOUT", "too late");
    },
    stats: () => ({ key: ctx.key }),
  }),
});

let server: NatsServer;
let dataDir: string;
let node: ActorSystem;
let standIns: ActorSystem;
const embedder = new HashEmbedder({ dimension: DIM });

async function upsert(index: string, shard: number, id: string, text: string): Promise<void> {
  const [r] = await embedder.embed([text]);
  const write: ShardWrite = { op: "upsert", chunk: { id, docId: id, text, vector: r!.vector, metadata: { shard } } };
  await new ShardLogWriter(await openShardLog(node.storage)).append(index, shard, [write]);
}

/** Activates a shard key on this node, through the activation request aimed at it (which a node never forwards). */
async function activateOn(system: ActorSystem, key: string): Promise<void> {
  const reply = await system.nc.request(system.subjects.activateOn(system.nodeId, SHARD_KIND), system.codec.encode({ key, direct: true }), { timeout: 10_000 });
  assert.deepEqual(system.codec.decode(reply.data), { owner: system.nodeId });
}

before(async () => {
  server = await startTestServer();
  dataDir = await mkdtemp(join(tmpdir(), "colmena-query-"));
  node = await startTestSystem(server.url, [embedderActor({ dimension: DIM }), shardActor({ dataDir, indexes }), coordinatorActor({ indexes })]);
  standIns = await startTestSystem(server.url, [StandIn]);
  // Both nodes host the shard kind, so keys would be placed between them by rendezvous: each claims its own keys
  // with activation requests aimed at itself, the stand-in node its broken replicas, the real node all the others.
  const standInKeys = [...SILENT, ...FAILING, ...CATCHING_UP];
  await Promise.all(standInKeys.map((k) => activateOn(standIns, k)));
  const realKeys = indexes.flatMap((spec) => replicaKeys(spec).map((r) => shardKey(r.index, r.shard, r.replica))).filter((k) => !standInKeys.includes(k));
  await Promise.all(realKeys.map((k) => activateOn(node, k)));
  await openShardLog(node.storage);
  for (let s = 0; s < 4; s++) await upsert("q", s, `q-doc-${s}`, `gateways connect clusters, shard ${s} copy`);
  for (let s = 0; s < 2; s++) await upsert("full", s, `full-doc-${s}`, `leaf nodes extend clusters, shard ${s} copy`);
  await upsert("lagging", 0, "new-doc", "routes join servers into a cluster");
  await waitForShards(node.storage, node, healthy);
  for (;;) {
    const st = await node.ref(ShardKind, shardKey("lagging", 0, 1)).ask({ type: "stats" });
    if (!st.catchingUp && st.size === 1) break;
    await sleep(20);
  }
  for (const k of [shardKey("q", 0, 0), shardKey("q", 0, 1), shardKey("q", 1, 1)]) {
    for (;;) {
      const st = await node.ref(ShardKind, k).ask({ type: "stats" });
      if (!st.catchingUp && st.size === 1) break;
      await sleep(20);
    }
  }
});

after(async () => {
  await standIns?.shutdown();
  await node?.shutdown();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("coordinator - every shard answers: fused hits from all of them, not partial", async () => {
  // topK left out: the schema's default applies to a same-node send too (it passes the kind's schema like a remote one).
  const answer = await node.pool(CoordinatorKind).ask({ type: "query", question: "leaf nodes extend clusters", index: "full" });
  assert.equal(answer.partial, false);
  assert.deepEqual(answer.missingShards, []);
  assert.deepEqual(answer.hits.map((h) => h.docId).sort(), ["full-doc-0", "full-doc-1"]);
  for (const h of answer.hits) {
    assert.ok(h.ranks.vector !== undefined && h.ranks.bm25 !== undefined, "in both lists");
    assert.ok(h.score > 0 && h.vectorScore! > 0.5);
  }
});

test("coordinator - shards that time out or fail make the answer partial and are named, within the caller's deadline", async () => {
  // Twice, so that each replica of shard 1 is tried first once: it answers through replica 1 when replica 0 fails.
  for (let i = 0; i < 2; i++) {
    const answer = await node.pool(CoordinatorKind).ask({ type: "query", question: "gateways connect clusters", topK: 10, index: "q" }, { timeoutMs: 1_000 });
    assert.equal(answer.partial, true);
    assert.deepEqual(answer.missingShards.sort(), ["q-2", "q-3"]);
    assert.deepEqual(answer.hits.map((h) => h.docId).sort(), ["q-doc-0", "q-doc-1"]);
  }
});

test("coordinator - a replica still catching up with its log is passed over for one that has caught up; an answer says how far through the log each shard's replica was", async () => {
  const log = await openShardLog(node.storage);
  const written = await log.lastSequenceOn(shardLogSubject(log, "lagging", 0));
  assert.ok(written > 0);
  // Twice, so that each replica is asked first once.
  for (let i = 0; i < 2; i++) {
    const answer = await node.pool(CoordinatorKind).ask({ type: "query", question: "routes join servers", index: "lagging" });
    assert.deepEqual(answer.hits.map((h) => h.docId), ["new-doc"], "the write the lagging replica lacks is found");
    assert.deepEqual(answer.applied, [{ index: "lagging", shard: 0, lastSeq: written }]);
  }
  const old = await node.pool(CoordinatorKind).ask({ type: "query", question: "an old chunk", index: "behind" });
  assert.deepEqual(old.hits.map((h) => h.docId), ["old"], "with no replica caught up, the one there answers");
  assert.deepEqual(old.applied, [{ index: "behind", shard: 0, lastSeq: 0 }], "and the answer says it holds no write of the log (the pipeline does not cache it)");
  assert.equal(old.partial, false);
});

test("coordinator - searches with the caller's vector, and refuses what it cannot search", async () => {
  const [q] = await embedder.embed(["leaf nodes"]);
  const answer = await node.pool(CoordinatorKind).ask({ type: "search", vector: q!.vector, topK: 1, index: "full" });
  assert.equal(answer.hits.length, 1);
  assert.equal(answer.hits[0]!.ranks.bm25, undefined, "no text, no BM25 list");
  await assert.rejects(node.pool(CoordinatorKind).ask({ type: "search", topK: 3, index: "full" }), (err) => isColmenaError(err, "INVALID"));
  await assert.rejects(node.pool(CoordinatorKind).ask({ type: "search", vector: [1, 2], topK: 3, index: "full" }), (err) => isColmenaError(err, "INVALID"));
  await assert.rejects(node.pool(CoordinatorKind).ask({ type: "query", question: "x", topK: 3, index: "nope" }), (err) => isColmenaError(err, "NOT_FOUND"));
});
