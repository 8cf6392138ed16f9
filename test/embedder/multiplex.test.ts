import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { EmbedderKind, OnnxEmbedder } from "../../actors/index.js";
import { ColmenaConfigSchema } from "../../cli/config.js";
import { startNode, type RunningNode } from "../../cli/node.js";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError, loadConfig, type ActorSystem } from "../../runtime/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

/**
 * Model multiplexing end to end: one node hosts the embedder pool with the
 * hash default and two ONNX encoders (32-d and 48-d) under a memory budget
 * that holds only one of them, plus the HTTP bridge; another node asks it
 * across a real nats-server. Every model is a real onnxruntime session in
 * its worker thread.
 */
describe("embedder multiplexing", () => {
  let server: NatsServer;
  let root: string;
  let node: RunningNode;
  let client: ActorSystem;
  let url: string;
  const dirs = { a: "", b: "", huge: "", broken: "" };
  const sizes = { a: 0, b: 0, huge: 0 };
  let budget = 0;

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
  const embedHttp = async (body: Record<string, unknown>) => {
    const res = await fetch(`${url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ encoding_format: "float", ...body }) });
    return { status: res.status, body: (await res.json()) as { model: string; data: { embedding: number[] }[]; error?: { code: string; message: string } } };
  };
  const served = () => client.pool(EmbedderKind).ask({ type: "models" });
  const state = async (id: string) => (await served()).models.find((m) => m.id === id)!;

  before(async () => {
    [server, root] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "colmena-multiplex-"))]);
    dirs.a = join(root, "enc-a");
    dirs.b = join(root, "enc-b");
    dirs.huge = join(root, "enc-huge");
    await buildTinyEncoder(dirs.a, { hidden: 32, seed: 1 });
    await buildTinyEncoder(dirs.b, { hidden: 48, seed: 2 });
    await buildTinyEncoder(dirs.huge, { hidden: 256, seed: 3 });
    // A whole export whose model file onnxruntime refuses: found only when it loads.
    dirs.broken = join(root, "enc-broken");
    await buildTinyEncoder(dirs.broken, { hidden: 16 });
    await writeFile(join(dirs.broken, "model.onnx"), "not an onnx model");
    for (const k of ["a", "b", "huge"] as const) sizes[k] = (await stat(join(dirs[k], "model.onnx"))).size;
    // Room for either encoder, never both; the huge one fits under no circumstances.
    budget = Math.max(sizes.a, sizes.b) + Math.floor(Math.min(sizes.a, sizes.b) / 2);
    assert.ok(sizes.huge > budget);
    const config = loadConfig(ColmenaConfigSchema, {
      flags: {
        "nats.servers": server.url,
        dataDir: join(root, "data"),
        roles: ["embedder", "bridge"],
        "log.level": "silent",
        nodeId: "models",
        "http.port": 0,
        "retrieval.embedder": {
          memoryBudgetBytes: budget,
          models: [
            { id: "enc-a", modelDir: dirs.a },
            { id: "enc-b", modelDir: dirs.b },
            { id: "enc-huge", modelDir: dirs.huge },
            { id: "enc-broken", modelDir: dirs.broken },
          ],
        },
      },
    });
    node = await startNode(config, { version: "0.0.0", log: pino({ level: "silent" }) });
    url = node.httpUrl!;
    client = await startTestSystem(server.url, [], { nodeId: "client" });
  });

  after(async () => {
    await client?.shutdown();
    await node?.stop();
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test("multiplexing - /v1/models lists every configured embedder; only the default is loaded before any request", async () => {
    const res = await fetch(`${url}/v1/models`);
    const { data } = (await res.json()) as { data: { id: string; kind: string; loaded: boolean }[] };
    const embedders = data.filter((m) => m.kind === "embedder").map(({ id, loaded }) => ({ id, loaded }));
    assert.deepEqual(embedders, [
      { id: "hash-384", loaded: true },
      { id: "enc-a", loaded: false },
      { id: "enc-b", loaded: false },
      { id: "enc-huge", loaded: false },
      { id: "enc-broken", loaded: false },
    ]);
  });

  test("multiplexing - model selects the encoder per request: its own dimension and the vector it gives alone", async () => {
    const a = await embedHttp({ model: "enc-a", input: "queen bees lay eggs" });
    assert.equal(a.status, 200);
    assert.equal(a.body.model, "enc-a");
    assert.equal(a.body.data[0]!.embedding.length, 32);
    const reference = await OnnxEmbedder.load(dirs.a);
    try {
      const [alone] = await reference.embed(["queen bees lay eggs"]);
      assert.ok(maxDiff(a.body.data[0]!.embedding, alone!.vector) < 1e-5);
    } finally {
      await reference.close();
    }
    const byDefault = await embedHttp({ input: "queen bees lay eggs" });
    assert.equal(byDefault.body.model, "hash-384");
    assert.equal(byDefault.body.data[0]!.embedding.length, 384);
    assert.equal((await state("enc-a")).state, "loaded");
  });

  test("multiplexing - the second encoder's first requests load it once, evicting the first; those arriving meanwhile are queued and answered", async (t) => {
    await embedHttp({ model: "enc-a", input: "warm" });
    const before = await state("enc-b");
    assert.equal(before.state, "unloaded");
    const sent = performance.now();
    // One flush: every ask is at the embedder before the load that the first of them starts can end.
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        client
          .pool(EmbedderKind)
          .ask({ type: "embed", texts: [`drone ${i}`], model: "enc-b" })
          .then((r) => ({ r, ms: performance.now() - sent })),
      ),
    );
    for (const { r } of replies) {
      assert.equal(r.model, "enc-b");
      assert.equal(r.dimension, 48);
    }
    const after = await served();
    const b = after.models.find((m) => m.id === "enc-b")!;
    const a = after.models.find((m) => m.id === "enc-a")!;
    assert.equal(b.loads, 1, "one load for every request");
    assert.ok(b.queued >= 1, `requests that found it loading: ${b.queued}`);
    assert.equal(b.state, "loaded");
    assert.equal(a.state, "unloaded", "the first encoder was unloaded to make room");
    assert.ok(after.models.filter((m) => m.state !== "unloaded").reduce((s, m) => s + m.bytes, 0) <= budget);
    const waits = replies.map((x) => x.ms).sort((x, y) => x - y);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^colmena_models_loaded\{kind="embedder"\} 2$/m, "the hash default and enc-b");
    assert.match(metrics, new RegExp(`^colmena_model_memory_bytes\\{kind="embedder"\\} ${sizes.b}$`, "m"));
    t.diagnostic(`enc-b (${sizes.b} B) loaded in ${b.lastLoadMs?.toFixed(1)} ms; ${b.queued} of 6 requests queued behind the load; replies after ${waits.map((w) => w.toFixed(1)).join(", ")} ms; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

    // And back: the first encoder loads again, evicting the second.
    const again = await embedHttp({ model: "enc-a", input: "queen" });
    assert.equal(again.status, 200);
    const last = await served();
    assert.deepEqual(
      last.models.map((m) => [m.id, m.state, m.loads]),
      [
        ["hash-384", "loaded", 1],
        ["enc-a", "loaded", 2],
        ["enc-b", "unloaded", 1],
        ["enc-huge", "unloaded", 0],
        ["enc-broken", "unloaded", 0],
      ],
    );
  });

  test("multiplexing - an unknown model is refused by name with what is served; one over the whole budget is TOO_LARGE", async () => {
    const unknown = await embedHttp({ model: "text-embedding-3-small", input: "bees" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error!.code, "model_not_found");
    assert.match(unknown.body.error!.message, /"hash-384", "enc-a", "enc-b", "enc-huge", "enc-broken"/);
    // The embedder itself refuses an id it does not serve, whoever asks.
    await assert.rejects(client.pool(EmbedderKind).ask({ type: "embed", texts: ["bees"], model: "nope" }), (err: unknown) => {
      assert.ok(isColmenaError(err) && err.code === "NOT_FOUND");
      assert.deepEqual(err.details, { model: "nope", served: ["hash-384", "enc-a", "enc-b", "enc-huge", "enc-broken"] });
      return true;
    });
    await assert.rejects(client.pool(EmbedderKind).ask({ type: "embed", texts: ["bees"], model: "enc-huge" }), (err: unknown) => {
      assert.ok(isColmenaError(err) && err.code === "TOO_LARGE" && !err.retryable);
      assert.equal(err.details!.bytes, sizes.huge);
      assert.equal(err.details!.budgetBytes, budget);
      return true;
    });
    assert.equal((await state("enc-huge")).state, "unloaded");
    assert.equal((await state("enc-a")).state, "loaded", "a refused model unloads nothing");
  });

  test("multiplexing - a model whose load fails fails its own requests; the instance and the models beside it keep serving", async () => {
    await assert.rejects(client.pool(EmbedderKind).ask({ type: "embed", texts: ["bees"], model: "enc-broken" }), (err: unknown) => {
      assert.ok(isColmenaError(err) && err.code === "UNAVAILABLE" && !err.retryable, String(err));
      assert.equal(err.details!.model, "enc-broken");
      assert.equal(err.details!.loadError, "INVALID", "onnxruntime refused the file");
      return true;
    });
    const after = await served();
    assert.equal(after.models.find((m) => m.id === "enc-broken")!.state, "unloaded");
    assert.equal(after.models.find((m) => m.id === "enc-a")!.state, "loaded", "the loaded encoder stays (the broken one failed before it needed room)");
    assert.equal((await embedHttp({ model: "enc-a", input: "queen" })).status, 200);
    assert.equal((await embedHttp({ input: "queen" })).status, 200);
    assert.equal((await client.pool(EmbedderKind).ask({ type: "stats" })).models.find((m) => m.id === "enc-a")!.loads, 2, "no restart: enc-a was not loaded again");
  });
});
