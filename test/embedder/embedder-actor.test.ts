import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EmbedderConfigSchema, EmbedderKind, embedderActor, OnnxEmbedder } from "../../actors/index.js";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { ManualClock } from "../../supervisors/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

const MAX_POSITIONS = 24;
let server: NatsServer;
let root: string;
let modelDir: string;
let node: ActorSystem;
/** A node that hosts no embedder: its asks cross NATS and are validated on arrival. */
let remote: ActorSystem;

const TEXTS = Array.from({ length: 32 }, (_, i) => `text number ${i} about ${"the cluster and its shard replicas ".repeat(i % 4)}nodes`);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

before(async () => {
  server = await startTestServer();
  root = await mkdtemp(join(tmpdir(), "colmena-embedder-actor-"));
  modelDir = join(root, "tiny-bert");
  await buildTinyEncoder(modelDir, { hidden: 32, maxPositions: MAX_POSITIONS });
  node = await startTestSystem(server.url, [
    embedderActor({ backend: "onnx", modelDir, batching: { maxBatch: 16, maxWaitMs: 20 }, maxTextsPerRequest: 40 }),
  ]);
  remote = await startTestSystem(server.url, []);
});

after(async () => {
  await remote?.shutdown();
  await node?.shutdown();
  await server?.stop();
  await rm(root, { recursive: true, force: true });
});

test("embedder actor - concurrent single-text requests are batched and give the vectors each text gets alone", async () => {
  const pool = node.pool(EmbedderKind);
  const before = await pool.ask({ type: "stats" });
  const replies = await Promise.all(TEXTS.map((text) => pool.ask({ type: "embed", texts: [text] })));
  const after = await pool.ask({ type: "stats" });
  const batches = after.batches - before.batches;
  assert.equal(after.batchedTexts - before.batchedTexts, TEXTS.length);
  assert.ok(batches < TEXTS.length, `32 requests ran as ${batches} inferences`);
  assert.ok(after.largestBatch > 1);

  const alone = await OnnxEmbedder.load(modelDir);
  try {
    for (const [i, text] of TEXTS.entries()) {
      const [reference] = await alone.embed([text]); // unbatched: one text per inference
      const reply = replies[i]!;
      assert.equal(reply.model, alone.id);
      assert.equal(reply.dimension, 32);
      assert.ok(maxDiff(reply.vectors[0]!, reference!.vector) < 1e-5, `text ${i} differs by ${maxDiff(reply.vectors[0]!, reference!.vector)}`);
    }
  } finally {
    await alone.close();
  }
});

test("embedder actor - one message with many texts answers them in order, also across NATS", async () => {
  const local = await node.pool(EmbedderKind).ask({ type: "embed", texts: TEXTS.slice(0, 20) });
  const viaNats = await remote.pool(EmbedderKind).ask({ type: "embed", texts: TEXTS.slice(0, 20) });
  assert.equal(viaNats.vectors.length, 20);
  assert.ok(viaNats.vectors[0] instanceof Float32Array, "vectors travel as Float32Array");
  for (let i = 0; i < 20; i++) assert.ok(maxDiff(local.vectors[i]!, viaNats.vectors[i]!) < 1e-6);
});

test("embedder actor - a text longer than the model's window is truncated and flagged", async () => {
  const long = "cluster ".repeat(MAX_POSITIONS * 2);
  const reply = await node.pool(EmbedderKind).ask({ type: "embed", texts: ["short text", long] });
  assert.deepEqual(reply.truncated, [false, true]);
});

test("embedder actor - empty texts, empty or over-large requests and bad shapes are INVALID", async () => {
  const pool = node.pool(EmbedderKind);
  const invalid = (pattern: RegExp) => (err: unknown) => isColmenaError(err, "INVALID") && pattern.test(err.message);
  await assert.rejects(pool.ask({ type: "embed", texts: ["fine", "   "] }), invalid(/text 1 is empty/));
  await assert.rejects(pool.ask({ type: "embed", texts: [] }), invalid(/empty/));
  await assert.rejects(pool.ask({ type: "embed", texts: Array.from({ length: 41 }, () => "x") }), invalid(/41 texts exceed the limit of 40/));
  // Shapes only a remote sender can get wrong (in-process senders are type-checked).
  await assert.rejects(remote.pool(EmbedderKind).ask({ type: "embed", texts: [42] } as never), invalid(/texts/));
  await assert.rejects(remote.pool(EmbedderKind).ask({ type: "embed", texts: ["", "x"] }), invalid(/text 0 is empty/));
});

test("embedder actor - the batch wait runs on the node's clock", async () => {
  const clock = new ManualClock(Date.now());
  // A namespace of its own: this pool is not the one the other tests ask.
  const clocked = await startTestSystem(server.url, [embedderActor({ batching: { maxBatch: 4, maxWaitMs: 1_000 } })], { clock, flags: { namespace: "clocked" } });
  try {
    const pool = clocked.pool(EmbedderKind);
    const reply = pool.ask({ type: "embed", texts: ["a text that waits for company"] });
    await waitFor("the text waits in its batch", async () => (await pool.ask({ type: "stats" })).pending === 1);
    assert.equal((await pool.ask({ type: "stats" })).batches, 0, "nothing runs before the clock moves");
    clock.advance(999);
    assert.equal((await pool.ask({ type: "stats" })).batches, 0, "nor a millisecond before maxWaitMs");
    clock.advance(1);
    assert.equal((await reply).vectors.length, 1);
  } finally {
    await clocked.shutdown();
  }
});

test("embedder actor - the config names what is wrong", () => {
  assert.deepEqual(EmbedderConfigSchema.parse({}).backend, "hash");
  const paths = (input: unknown) => EmbedderConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join("."));
  assert.deepEqual(paths({ backend: "onnx" }), ["modelDir"]);
  assert.deepEqual(paths({ backend: "onnx", modelDir: "/m", dimension: 8 }), ["dimension"]);
  assert.deepEqual(paths({ batching: { maxBatch: 64 }, concurrency: 8 }), ["concurrency"]);
  assert.deepEqual(paths({ backend: "bert" }), ["backend"]);
});
