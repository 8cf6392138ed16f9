import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { AnswerCache, cacheKey, type AnswerCacheOptions } from "../../actors/cache/index.js";
import { Codec, connectNats, openBucket, type NatsServer } from "../../nats/index.js";
import { ManualClock } from "../../supervisors/index.js";
import { startTestServer } from "../helpers/nats-server.js";

let server: NatsServer;
let dir: string;
const connections: NatsConnection[] = [];
const quiet = pino({ level: "silent" });

before(async () => {
  [server, dir] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "colmena-cache-"))]);
});

after(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A connection of its own: another node, as far as the cache can tell. */
async function node(name: string): Promise<NatsConnection> {
  const nc = await connectNats({ servers: server.url, name }, quiet);
  connections.push(nc);
  return nc;
}

const answer = { text: "The queen lays the eggs [1].", sources: [{ docId: "hive.md", score: 0.9 }] };
const key = (question: string, indexVersion = 1, llm = "extractive") =>
  cacheKey({ kind: "answer", question, indexVersion, models: { embedder: "hash-384", llm } });

test("cache - L1, L2 and L3 hits are counted per level and fill the levels above", async () => {
  const ns = "levels";
  const opts = (l3: string, nc: NatsConnection): AnswerCacheOptions => ({ nc, namespace: ns, l3: { dir: join(dir, l3) } });
  const a = await AnswerCache.open(opts("disk-a", await node("a")));
  const k = key("What does the queen bee do?");
  assert.equal(await a.get(k), undefined);
  assert.deepEqual(a.stats(), { l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 }, l3: { hits: 0, misses: 1 }, sets: 0, errors: 0 });
  await a.set(k, answer);
  assert.deepEqual(await a.lookup(k), { value: answer, level: "l1" });

  // Another node sees it in L2, then has it in its own L1.
  const b = await AnswerCache.open(opts("disk-b", await node("b")));
  assert.deepEqual(await b.lookup(key("what does the queen bee do")), { value: answer, level: "l2" });
  assert.deepEqual(await b.lookup(k), { value: answer, level: "l1" });
  assert.deepEqual(b.stats(), { l1: { hits: 1, misses: 1 }, l2: { hits: 1, misses: 0 }, l3: { hits: 0, misses: 0 }, sets: 0, errors: 0 });

  // With the L2 copy gone, node a's disk still has it (a restarted process: empty L1), and L2 gets it back.
  const nc = await node("c");
  const bucket = await openBucket(nc, `${ns}_cache-answer`, { ttlMs: 3_600_000 });
  await bucket.purge(k);
  const a2 = await AnswerCache.open(opts("disk-a", nc));
  assert.deepEqual(await a2.lookup(k), { value: answer, level: "l3" });
  assert.deepEqual(a2.stats(), { l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 }, l3: { hits: 1, misses: 0 }, sets: 0, errors: 0 });
  assert.deepEqual(await a2.lookup(k), { value: answer, level: "l1" });
  assert.equal((await bucket.get(k))?.operation, "PUT", "the L3 hit went back into L2");

  // Only answers go to disk by default; other kinds use L1 and L2.
  const retrieval = cacheKey({ kind: "retrieval", question: "queen", indexVersion: 1, models: { embedder: "hash-384" } });
  await a2.set(retrieval, [{ id: "hive.md#1", score: 1 }]);
  const diskOnly = await AnswerCache.open({ l3: { dir: join(dir, "disk-a") } });
  assert.deepEqual(await diskOnly.get(k), answer);
  assert.equal(await diskOnly.get(retrieval), undefined);
});

test("cache - a new index version or model id misses the old entry", async () => {
  const c = await AnswerCache.open({ nc: await node("d"), namespace: "versions" });
  await c.set(key("Why do bees swarm?", 1, "extractive"), answer);
  assert.equal(await c.get(key("Why do bees swarm?", 2, "extractive")), undefined);
  assert.equal(await c.get(key("Why do bees swarm?", 1, "falcon3-1b")), undefined);
  assert.deepEqual(await c.get(key("why do bees swarm", 1, "extractive")), answer);
});

test("cache - entries expire by their kind's TTL at every level, and the server drops them from L2", async () => {
  const clock = new ManualClock(Date.now());
  const opts = async (name: string): Promise<AnswerCacheOptions> => ({
    nc: await node(name),
    namespace: "ttl",
    clock,
    ttlMs: { answer: 1_000, retrieval: 60_000 },
    l3: { dir: join(dir, "disk-ttl") },
  });
  const c = await AnswerCache.open(await opts("e"));
  const k = key("How long does a queen live?");
  const r = cacheKey({ kind: "retrieval", question: "queen", indexVersion: 1, models: { embedder: "hash-384" } });
  await c.set(k, answer);
  await c.set(r, ["hit"]);
  clock.advance(1_001);
  assert.equal(await c.get(k), undefined, "expired in L1, L2 and L3 alike");
  assert.deepEqual(c.stats(), { l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 }, l3: { hits: 0, misses: 1 }, sets: 2, errors: 0 });
  assert.deepEqual(await c.get(r), ["hit"], "retrieval results live longer");

  // The server removes the entry once the bucket's max age (the answer TTL) has passed.
  const bucket = await openBucket(connections.at(-1)!, "ttl_cache-answer", { ttlMs: 1_000 });
  for (let i = 0; i < 100 && (await bucket.get(k))?.operation === "PUT"; i++) await sleep(100);
  assert.equal((await bucket.get(k))?.operation === "PUT", false);
});

test("cache - fillL1FromL2 warms a new node's memory from the shared buckets", async () => {
  const a = await AnswerCache.open({ nc: await node("f"), namespace: "warm" });
  const questions = ["What is propolis?", "Why do bees swarm?", "How do bees make honey?"];
  for (const q of questions) await a.set(key(q), { ...answer, text: q });
  await a.set(cacheKey({ kind: "embedding", question: "bees", models: { embedder: "hash-384" } }), new Float32Array([0.5, 0.25]));
  const b = await AnswerCache.open({ nc: await node("g"), namespace: "warm" });
  assert.equal(await b.fillL1FromL2(), 4);
  assert.equal(b.l1Size, 4);
  for (const q of questions) assert.deepEqual(await b.lookup(key(q)), { value: { ...answer, text: q }, level: "l1" });
  assert.deepEqual(await b.get(cacheKey({ kind: "embedding", question: "bees", models: { embedder: "hash-384" } })), new Float32Array([0.5, 0.25]));
  assert.deepEqual(b.stats().l2, { hits: 0, misses: 0 });
  const c = await AnswerCache.open({ nc: await node("h"), namespace: "warm", l1: { maxEntries: 2 } });
  assert.equal(await c.fillL1FromL2(["answer"]), 2, "no more than L1 holds");
});

test("cache - L1 is bounded by the encoded size of its entries, and every hit is a copy", async () => {
  const value = (i: number) => ({ ...answer, text: `${"x".repeat(1_000)} ${i}` });
  const size = new Codec().encode(value(0)).byteLength;
  const cache = await AnswerCache.open({ l1: { maxBytes: 3 * size + size / 2 } });
  for (let i = 0; i < 5; i++) await cache.set(key(`q${i}`), value(i));
  assert.equal(cache.l1Size, 3, "three entries of that size fit, four do not");
  const hit = await cache.get<ReturnType<typeof value>>(key("q4"));
  assert.deepEqual(hit, value(4));
  hit!.sources.length = 0;
  assert.deepEqual(await cache.get(key("q4")), value(4), "changing what a hit gave changes nothing cached");
});
