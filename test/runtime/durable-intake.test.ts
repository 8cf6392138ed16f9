import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import { Codec, ensureStream, jetStreamManagerOf, jetStreamOf, type NatsServer } from "../../nats/index.js";
import { defineActor, isColmenaError, nodeMetrics, type ActorSystem } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

const STREAM = "intake-test";
const seen: number[] = [];
/** Entries whose handler crashes on first delivery. */
const crashOnce = new Set<number>();

const Log = defineActor({
  kind: "intake-log",
  placement: "keyed",
  idleMs: Infinity,
  messages: {
    entry: z.object({ seq: z.number().int().positive(), text: z.string() }),
    seen: z.object({}),
  },
  create: () => ({
    entry: (m: { seq: number; text: string }) => {
      if (crashOnce.delete(m.seq)) throw new Error(`crash on ${m.seq}`);
      seen.push(m.seq);
    },
    seen: () => [...seen],
  }),
  intake: {
    type: "entry",
    source: () => ({
      stream: STREAM,
      durable: "intake-log",
      ackWaitMs: 30_000,
      inFlight: 1,
      message: (e) => {
        if (e.value === "bad") throw new Error("not an entry");
        return { type: "entry", seq: e.seq, text: e.value as string };
      },
    }),
  },
});

let server: NatsServer;
let system: ActorSystem;
const codec = new Codec();
const publishBytes = async (data: Uint8Array) => (await jetStreamOf(system.nc).publish(`${STREAM}.in`, data)).seq;
const publish = (value: unknown) => publishBytes(codec.encode(value));
const restarts = () => system.stats().kinds.find((k) => k.kind === "intake-log")!.activations[0]?.restarts ?? 0;
const pending = async () => (await (await jetStreamManagerOf(system.nc)).consumers.info(STREAM, "intake-log")).num_ack_pending;

before(async () => {
  server = await startTestServer();
  system = await startTestSystem(server.url, [Log]);
  await ensureStream(system.nc, { name: STREAM, subjects: [`${STREAM}.>`] });
  await system.ref(Log, "one").ask({ type: "seen" }); // activates the key, and with it the intake
});
after(async () => {
  await system?.shutdown();
  await server?.stop();
});

test("durable intake - entries reach the handler through the mailbox in stream order, each acked once answered", async () => {
  const seqs = [await publish("a"), await publish("b"), await publish("c")];
  await waitFor("all applied", () => seqs.every((s) => seen.includes(s)));
  assert.deepEqual(seen, seqs);
  await waitFor("all acked", async () => (await pending()) === 0);
});

test("durable intake - an entry that is not a message is passed over, counted, and the stream goes on", async () => {
  const refused = () => system.stats().kinds.find((k) => k.kind === "intake-log")!.activations[0]?.intakeRefused ?? 0;
  const exported = async () => Number(/^colmena_malformed_entries_total\{source="intake",kind="intake-log"\} (\d+)$/m.exec(await nodeMetrics.metrics())?.[1] ?? 0);
  const before = refused();
  const exportedBefore = await exported();
  await publish("bad"); // message() throws
  await publish(12n ** 30n); // a BigInt: not a string, the schema refuses it
  await publish({ deep: [[[[[[{}]]]]]] });
  await publishBytes(Uint8Array.of(0xd9, 0xff, 0x61)); // a string longer than the entry
  const next = await publish("after the bad ones");
  await waitFor("the next entry applied", () => seen.includes(next));
  assert.equal(refused(), before + 4);
  assert.equal(await exported(), exportedBefore + 4, "the Prometheus family counts them too");
  assert.equal(restarts(), 0, "bad input is not a crash");
  await waitFor("every entry settled", async () => (await pending()) === 0);
});

test("durable intake - a handler that crashes is restarted by its supervisor and the entry comes again", async () => {
  const before = restarts();
  const seq = (await jetStreamManagerOf(system.nc).then((jsm) => jsm.streams.info(STREAM))).state.last_seq + 1;
  crashOnce.add(seq);
  assert.equal(await publish("crashes once"), seq);
  await waitFor("redelivered and applied", () => seen.includes(seq), 15_000);
  assert.equal(restarts(), before + 1);
});

test("durable intake - senders cannot send the intake's type, on the node or over NATS", async () => {
  await assert.rejects(system.ref(Log, "one").ask({ type: "entry", seq: 999, text: "forged" }), (e) => isColmenaError(e, "INVALID") && /durable stream only/.test(e.message));
  const other = await startTestSystem(server.url, [], { nodeId: "sender" });
  try {
    await assert.rejects(other.ref(Log, "one").ask({ type: "entry", seq: 999, text: "forged" }), (e) => isColmenaError(e, "INVALID"));
  } finally {
    await other.shutdown();
  }
  assert.ok(!seen.includes(999));
});

test("durable intake - a lost consumer is opened again in place: no restart, and entries stored after it come through", async () => {
  const before = restarts();
  await (await jetStreamManagerOf(system.nc)).consumers.delete(STREAM, "intake-log");
  const seq = await publish("after the loss");
  await waitFor("the reopened consumer delivers", () => seen.includes(seq), 15_000);
  assert.equal(restarts(), before, "the activation went on: only its consumer was opened again");
  assert.ok((await system.ref(Log, "one").ask({ type: "seen" })).includes(seq));
});

test("durable intake - a consumer that cannot be opened again is, after a few tries, a failure the supervisor sees; the activation comes back with the stream", async () => {
  const before = restarts();
  await (await jetStreamManagerOf(system.nc)).streams.delete(STREAM);
  await waitFor("restarted", () => restarts() > before, 30_000);
  await ensureStream(system.nc, { name: STREAM, subjects: [`${STREAM}.>`] });
  const seq = await publish("with the stream back");
  await waitFor("a new incarnation's consumer delivers", () => seen.includes(seq), 60_000);
});
