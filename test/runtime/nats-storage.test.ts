import assert from "node:assert/strict";
import { test } from "node:test";
import { Codec, openBucket } from "../../nats/index.js";
import { isTypedError, NatsStorage, Subjects, systemClock, type Storage } from "../../runtime/index.js";
import { serverWithClient } from "../helpers/nats-server.js";

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
