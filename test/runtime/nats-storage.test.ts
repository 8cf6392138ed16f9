import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { Codec, freePort, jetStreamManagerOf, openBucket, startNatsServer } from "../../nats/index.js";
import { isTypedError, NatsStorage, Subjects, systemClock, type Storage } from "../../runtime/index.js";
import { serverWithClient } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

const fx = serverWithClient();
let made: Storage | undefined;
/** Made at first use: the fixture's connection exists only once its before hook has run. */
const storage = (): Storage => (made ??= new NatsStorage(fx.nc, new Subjects("st"), new Codec(4_096), systemClock));

const code = (c: string) => (err: unknown) => isTypedError(err) && err.code === c;

test("storage - a log is named in the namespace, appends values and says where it stands", async () => {
  const log = await storage().log({ name: "events", description: "test events" });
  assert.equal(log.stream, "st_events");
  assert.equal(log.subject("a", "1"), "st.events.a.1");
  assert.throws(() => log.subject("a.b"), code("INVALID"), "a token holds no dots");
  assert.match(log.subject("k".repeat(200)), /^st\.events\.h-[0-9a-f]{40}$/, "a long token is hashed");
  assert.deepEqual(await log.state(), { messages: 0, firstSeq: 0, lastSeq: 0 });

  const first = await log.append(log.subject("a"), { n: 1 });
  const again = await log.append(log.subject("a"), { n: 1 }, { msgId: "m1" });
  assert.equal(await log.append(log.subject("a"), { n: 1 }, { msgId: "m1" }), again, "a repeated id stores nothing");
  const other = await log.append(log.subject("b"), { n: 2 });
  assert.deepEqual([first, again, other], [1, 2, 3]);
  assert.equal(await log.lastSequenceOn(log.subject("a")), 2);
  assert.equal(await log.lastSequenceOn(log.subject("none")), 0);
  assert.deepEqual(await log.state(), { messages: 3, firstSeq: 1, lastSeq: 3 });
  assert.equal(await log.pending("nobody"), undefined);
  await assert.rejects(log.append("st.other.a", {}), code("INVALID"), "only the log's own subjects");
});

test("storage - appendAll encodes every value first: one too large stores none of the batch", async () => {
  const log = await storage().log({ name: "batch", description: "test batch" });
  await assert.rejects(
    log.appendAll([
      { subject: log.subject("x"), value: "small" },
      { subject: log.subject("x"), value: "y".repeat(10_000) },
    ]),
    code("TOO_LARGE"),
  );
  assert.equal((await log.state()).messages, 0);
  const outcomes = await log.appendAll([1, 2, 3].map((n) => ({ subject: log.subject("x"), value: n })));
  assert.deepEqual(
    outcomes.map((o) => o.status === "fulfilled" && o.value),
    [1, 2, 3],
  );
});

test("storage - replay reads one subject's entries between two sequences in order, leaves no consumer behind, and names an entry it cannot decode", async () => {
  const log = await storage().log({ name: "replayed", description: "test replay" });
  for (let n = 1; n <= 300; n++) await log.append(log.subject(n % 3 === 0 ? "other" : "mine"), { n });
  await fx.nc.publish(log.subject("mine"), Uint8Array.of(0xd9, 0xff, 0x61)); // a string of 255 bytes cut after one
  await fx.nc.flush();
  const read = async (from: number, to: number) => {
    const out: Array<{ seq: number; value: unknown; error?: string }> = [];
    for await (const e of log.replay(log.subject("mine"), from, to)) out.push(e);
    return out;
  };
  const all = await read(1, 10_000);
  assert.equal(all.length, 201, "every entry on the subject, across several fetches, and nothing of the other subject");
  assert.deepEqual(all.slice(0, 3).map((e) => e.value), [{ n: 1 }, { n: 2 }, { n: 4 }]);
  assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1]!.seq), "in stream order");
  const bad = all.at(-1)!;
  assert.equal(bad.value, undefined);
  assert.match(bad.error ?? "", /./, "an undecodable entry says why");
  assert.deepEqual((await read(4, 8)).map((e) => e.seq), [4, 5, 7, 8], "from and to are inclusive");
  assert.deepEqual(await read(9, 8), [], "an empty range reads nothing");
  await waitForNoConsumers(log.stream);
  await assert.rejects(async () => {
    for await (const _ of log.replay("st.other.a", 1, 2)) void _;
  }, code("INVALID"));
});

async function waitForNoConsumers(stream: string): Promise<void> {
  const jsm = await jetStreamManagerOf(fx.nc);
  for (let i = 0; i < 50; i++) {
    if ((await jsm.streams.info(stream)).state.consumer_count === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`consumers left on ${stream}`);
}

test("storage - a bucket keeps values, forgets deleted keys, lists keys, and reads a value it cannot decode as DECODE", async () => {
  const bucket = await storage().bucket("things");
  assert.equal(await bucket.get("a"), undefined);
  await bucket.put("a", { x: [1, 2] });
  await bucket.put("b", "two");
  assert.deepEqual(await bucket.get("a"), { x: [1, 2] });
  await bucket.delete("b");
  assert.equal(await bucket.get("b"), undefined);
  const keys: string[] = [];
  for await (const k of bucket.keys()) keys.push(k);
  assert.deepEqual(keys, ["a"]);
  await assert.rejects(bucket.put("big", "z".repeat(10_000)), code("TOO_LARGE"));

  const raw = await openBucket(fx.nc, "st_things");
  await raw.put("garbage", Uint8Array.of(0xd9, 0xff, 0x61));
  await assert.rejects(bucket.get("garbage"), code("DECODE"));
});

test("storage - a bucket's key view holds every key the bucket has, follows writes and deletes, and answers nothing while it cannot know", async () => {
  const bucket = await storage().bucket("viewed");
  await bucket.put("before", 1);
  await bucket.put("gone-before", 1);
  await bucket.delete("gone-before");
  const view = await bucket.watchKeys();
  try {
    await waitFor("the view to catch up", () => view.has("before") !== undefined);
    assert.equal(view.has("before"), true, "a key written before the watch");
    assert.equal(view.has("gone-before"), false, "a key deleted before it");
    assert.equal(view.has("never"), false);
    await bucket.put("after", 2);
    await waitFor("a new key", () => view.has("after") === true);
    await bucket.delete("after");
    await waitFor("a deleted key", () => view.has("after") === false);
  } finally {
    await view.stop();
  }
  assert.equal(view.has("before"), undefined, "a stopped view knows nothing");
  const empty = await (await storage().bucket("viewed-empty")).watchKeys();
  await waitFor("an empty bucket's view to be complete (at the server's first heartbeat)", () => empty.has("x") === false);
  await empty.stop();
});

test("storage - a key view whose connection is lost answers nothing until it has caught up again", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-key-view-"));
  const port = await freePort();
  let server = await startNatsServer({ storeDir: join(dir, "js"), port });
  const nc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  try {
    const bucket = await new NatsStorage(nc, new Subjects("lost"), new Codec(), systemClock).bucket("viewed");
    await bucket.put("k", 1);
    const view = await bucket.watchKeys();
    await waitFor("the view to catch up", () => view.has("k") === true);
    await server.stop();
    await waitFor("the view to give up", () => view.has("k") === undefined);
    server = await startNatsServer({ storeDir: join(dir, "js"), port });
    await waitFor("the connection to come back", async () => (await bucket.put("later", 2).then(() => true, () => false)), 20_000);
    await waitFor("the view to catch up again", () => view.has("later") === true && view.has("k") === true, 20_000);
    await view.stop();
  } finally {
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
