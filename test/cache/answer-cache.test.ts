import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { AnswerCache, cacheKey, type AnswerCacheOptions } from "../../actors/cache/index.js";
import { Codec, connectNats, jetStreamManagerOf, openBucket, type NatsServer } from "../../nats/index.js";
import { NatsStorage, Subjects, systemClock, type Storage } from "../../runtime/index.js";
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

/** The storage a node of this namespace gives its actors. */
const storageOf = (nc: NatsConnection, namespace: string): Storage => new NatsStorage(nc, new Subjects(namespace), new Codec(), systemClock);

const answer = { text: "The queen lays the eggs [1].", sources: [{ docId: "hive.md", score: 0.9 }] };
const key = (question: string, indexVersion = 1, llm = "extractive") =>
  cacheKey({ kind: "answer", question, indexVersion, models: { embedder: "hash-384", llm } });

test("cache - L1, L2 and L3 hits are counted per level and fill the levels above", async () => {
  const ns = "levels";
  const opts = (l3: string, nc: NatsConnection): AnswerCacheOptions => ({ storage: storageOf(nc, ns), l3: { dir: join(dir, l3) } });
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

  // The disk alone serves what was written to it; with answers left out of l3.kinds nothing goes there.
  const diskOnly = await AnswerCache.open({ l3: { dir: join(dir, "disk-a") } });
  assert.deepEqual(await diskOnly.get(k), answer);
  const swarm = key("Why do bees swarm?");
  await (await AnswerCache.open({ l3: { dir: join(dir, "disk-none"), kinds: [] } })).set(swarm, answer);
  assert.equal(await (await AnswerCache.open({ l3: { dir: join(dir, "disk-none") } })).get(swarm), undefined);
});

test("cache - an offered entry stays in L1 until it is asked for again, then goes to L2 and L3", async () => {
  const ns = "offers";
  const opts = (l3: string, nc: NatsConnection): AnswerCacheOptions => ({ storage: storageOf(nc, ns), l3: { dir: join(dir, l3) } });
  const a = await AnswerCache.open(opts("offer-a", await node("offer-a")));
  const bucket = await openBucket(await node("offer-watch"), `${ns}_cache-answer`, { ttlMs: 3_600_000 });
  const once = key("Asked only once?");
  const twice = key("Asked twice?");
  a.offer(once, answer);
  a.offer(twice, answer);
  assert.deepEqual(await a.lookup(twice), { value: answer, level: "l1" }, "an offer is in L1 at once");
  await a.settled();
  assert.equal(await bucket.get(once), null, "an answer asked once never reaches L2");
  assert.equal((await bucket.get(twice))?.operation, "PUT", "its first hit shared it");
  const b = await AnswerCache.open(opts("offer-b", await node("offer-b")));
  assert.deepEqual(await b.lookup(twice), { value: answer, level: "l2" });
  assert.equal(await b.lookup(once), undefined);
  const diskOnly = await AnswerCache.open({ l3: { dir: join(dir, "offer-a") } });
  assert.deepEqual(await diskOnly.get(twice), answer, "and the disk kept it");
  assert.equal(await diskOnly.get(once), undefined);
  assert.equal(a.stats().sets, 2);
});

test("cache - a new index version or model id misses the old entry", async () => {
  const c = await AnswerCache.open({ storage: storageOf(await node("d"), "versions") });
  await c.set(key("Why do bees swarm?", 1, "extractive"), answer);
  assert.equal(await c.get(key("Why do bees swarm?", 2, "extractive")), undefined);
  assert.equal(await c.get(key("Why do bees swarm?", 1, "falcon3-1b")), undefined);
  assert.deepEqual(await c.get(key("why do bees swarm", 1, "extractive")), answer);
});

test("cache - entries expire by their TTL at every level, and the L2 bucket's max age is that TTL", async () => {
  const TTL = 60_000;
  const clock = new ManualClock(Date.now());
  const opts = async (name: string, l3: string): Promise<AnswerCacheOptions> => ({
    storage: storageOf(await node(name), "ttl"),
    clock,
    ttlMs: { answer: TTL },
    l3: { dir: join(dir, l3) },
  });
  const c = await AnswerCache.open(await opts("e", "disk-ttl"));
  const k = key("How long does a queen live?");
  const later = key("How long does a drone live?");
  await c.set(k, answer);
  clock.advance(TTL / 2);
  await c.set(later, answer);
  clock.advance(TTL / 2 + 1);
  assert.equal(await c.get(k), undefined, "expired in L1, L2 and L3 alike");
  assert.deepEqual(c.stats(), { l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 }, l3: { hits: 0, misses: 1 }, sets: 2, errors: 0 });
  assert.deepEqual(await c.get(later), answer, "an entry's TTL runs from its own write");

  // A copy back-filled from L2 keeps the original's expiry, not a fresh TTL.
  const other = await AnswerCache.open(await opts("e2", "disk-ttl-other"));
  assert.deepEqual(await other.lookup(later), { value: answer, level: "l2" });
  clock.advance(TTL / 2);
  assert.equal(await other.get(later), undefined);
  assert.deepEqual(other.stats().l1, { hits: 0, misses: 2 });

  // The server reclaims L2 by the bucket's own max age, the answer TTL (and by its byte bound, oldest out first).
  const { config } = await (await jetStreamManagerOf(connections.at(-1)!)).streams.info("KV_ttl_cache-answer");
  assert.equal(config.max_age, TTL * 1_000_000);
  assert.equal(config.max_bytes, 256 * 1024 * 1024);
  assert.equal(config.discard, "old");
});

test("cache - fillL1FromL2 warms a new node's memory from the shared buckets", async () => {
  const a = await AnswerCache.open({ storage: storageOf(await node("f"), "warm") });
  const questions = ["What is propolis?", "Why do bees swarm?", "How do bees make honey?"];
  for (const q of questions) await a.set(key(q), { ...answer, text: q });
  const b = await AnswerCache.open({ storage: storageOf(await node("g"), "warm") });
  assert.equal(await b.fillL1FromL2(), 3);
  assert.equal(b.l1Size, 3);
  for (const q of questions) assert.deepEqual(await b.lookup(key(q)), { value: { ...answer, text: q }, level: "l1" });
  assert.deepEqual(b.stats().l2, { hits: 0, misses: 0 });
  const c = await AnswerCache.open({ storage: storageOf(await node("h"), "warm"), l1: { maxEntries: 2 } });
  assert.equal(await c.fillL1FromL2(), 2, "no more than L1 holds");
  assert.equal(await (await AnswerCache.open({ storage: storageOf(await node("i"), "warm") })).fillL1FromL2(1), 1, "no more than the limit");
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

test("cache - an L2 that stops answering holds no lookup up: a read gives up as a miss, and L2 is skipped until it is tried again", async () => {
  const own = await startTestServer(); // frozen below, so not the file's shared server
  try {
    const nc = await connectNats({ servers: own.url, name: "frozen-l2" }, quiet);
    connections.push(nc);
    const cache = await AnswerCache.open({ storage: storageOf(nc, "frozen"), l1: { maxEntries: 1 }, l2: { timeoutMs: 200, halfOpenAfterMs: 60_000 } });
    const [k1, k2] = [key("Who lays the eggs?"), key("Who guards the hive?")];
    await cache.set(k1, answer);
    await cache.set(k2, answer); // k1 leaves L1 (one entry), so only L2 has it
    // The cache follows L2's keys (opening it waits until it knows them all): a key L2 lacks costs no read, even of a server that answers nothing.
    const never = key("Who never asked?");
    process.kill(own.pid, "SIGSTOP");
    try {
      const missesBefore = cache.stats().l2.misses;
      assert.equal(await cache.lookup(never), undefined);
      assert.deepEqual([cache.stats().errors, cache.stats().l2.misses], [0, missesBefore + 1], "a key L2 lacks: a miss with no read, so no failed read");
      assert.equal(await cache.lookup(k1), undefined, "a read the server does not answer is a miss");
      assert.equal(cache.stats().errors, 1);
      assert.equal(await cache.lookup(k1), undefined, "skipped while the breaker is open");
      assert.equal(cache.stats().errors, 2);
      assert.deepEqual(await cache.lookup(k2), { value: answer, level: "l1" }, "L1 still answers");
    } finally {
      process.kill(own.pid, "SIGCONT");
    }
    assert.equal(await cache.lookup(k1), undefined, "the server answers again, but the breaker stays open for halfOpenAfterMs");
    assert.equal((await openBucket(nc, "frozen_cache-answer", { ttlMs: 3_600_000 }).then((b) => b.get(k1)))?.operation, "PUT", "the entry was in L2 all along");
  } finally {
    await own.stop();
  }
});
