import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureDurable, ensureStream, jetStreamManagerOf, jetStreamOf, lastSequenceOn, recreateDurable, type NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";

let server: NatsServer;
let nc: NatsConnection;

before(async () => {
  server = await startTestServer();
  nc = await connect({ servers: server.url });
});

after(async () => {
  await nc?.close();
  await server?.stop();
});

async function take(consumer: Awaited<ReturnType<typeof ensureDurable>>, n: number): Promise<number[]> {
  const seqs: number[] = [];
  const batch = await consumer.fetch({ max_messages: n, expires: 1_000 });
  for await (const m of batch) {
    seqs.push(m.seq);
    m.ack();
  }
  await nc.flush();
  return seqs;
}

test("jetstream - ensureStream creates a stream once and updates what may change", async () => {
  const spec = { name: "T_LOG", subjects: ["t.log.>"], duplicateWindowMs: 60_000 };
  const created = await ensureStream(nc, spec);
  assert.equal(created.config.storage, "file");
  assert.equal(created.config.duplicate_window, 60_000_000_000);
  const again = await ensureStream(nc, spec);
  assert.equal(again.created, created.created, "the same stream");
  const updated = await ensureStream(nc, { ...spec, subjects: ["t.log.>", "t.extra"], maxMsgs: 1_000 });
  assert.deepEqual(updated.config.subjects, ["t.log.>", "t.extra"]);
  assert.equal(updated.config.max_msgs, 1_000);
  const wq = await ensureStream(nc, { name: "T_WQ", subjects: ["t.wq"], retention: "workqueue", storage: "memory" });
  assert.equal(wq.config.retention, "workqueue");
  assert.equal(wq.config.storage, "memory");
});

test("jetstream - a Nats-Msg-Id repeated within the window is stored once", async () => {
  const js = jetStreamOf(nc);
  const a = await js.publish("t.log.dup", "x", { msgID: "same" });
  const b = await js.publish("t.log.dup", "x", { msgID: "same" });
  assert.equal(b.duplicate, true);
  assert.equal(b.seq, a.seq);
});

test("jetstream - a durable keeps its position, a recreated one starts where it is told", async () => {
  const js = jetStreamOf(nc);
  for (let i = 0; i < 6; i++) await js.publish(`t.log.${i % 2 ? "odd" : "even"}`, String(i));
  const last = await lastSequenceOn(nc, "T_LOG", "t.log.even");
  assert.ok(last > 0);
  assert.equal(await lastSequenceOn(nc, "T_LOG", "t.log.none"), 0);

  const spec = { stream: "T_LOG", durable: "evens", filterSubject: "t.log.even", ackWaitMs: 5_000 };
  const durable = await ensureDurable(nc, spec);
  const firstTwo = await take(durable, 2);
  assert.equal(firstTwo.length, 2);
  const resumed = await take(await ensureDurable(nc, spec), 10);
  assert.ok(resumed.every((s) => s > firstTwo[1]!), "an existing durable resumes after its acks");

  const replay = await take(await recreateDurable(nc, { ...spec, startSeq: firstTwo[1]! }), 10);
  assert.equal(replay[0], firstTwo[1], "a recreated durable starts at startSeq even behind its old ack floor");
  const info = await (await jetStreamManagerOf(nc)).consumers.info("T_LOG", "evens");
  assert.equal(info.config.filter_subject, "t.log.even");
  assert.equal(info.config.ack_wait, 5_000_000_000);
});
