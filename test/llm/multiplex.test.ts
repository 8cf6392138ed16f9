import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { llmKind, OnnxDecoderBackend, type LlmStreamEvent } from "../../actors/index.js";
import { ColmenaConfigSchema } from "../../cli/config.js";
import { startNode, type RunningNode } from "../../cli/node.js";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError, loadConfig, type ActorSystem } from "../../runtime/index.js";
import { buildTinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { collect, ignoreWarnings } from "./helpers.js";

/**
 * LLM multiplexing: an llm instance with the extractive default and two
 * ONNX decoders (hidden 32 and 48) under a budget that holds one, asked
 * across a real nats-server; then a whole node, whose chat route selects the
 * decoder per request.
 */
describe("llm multiplexing", () => {
  let server: NatsServer;
  let root: string;
  const dirs = { a: "", b: "" };
  let budget = 0;
  const systems: ActorSystem[] = [];
  const messages = [{ role: "user" as const, content: "What does the queen do?" }];

  const text = async (stream: AsyncIterable<LlmStreamEvent>) => {
    let out = "";
    for await (const e of stream) if (e.type === "token") out += e.text;
    return out;
  };
  const alone = async (dir: string) => {
    const backend = await OnnxDecoderBackend.load({ modelDir: dir, warn: ignoreWarnings });
    try {
      return (await collect(backend.generate({ messages, maxNewTokens: 6 }, new AbortController().signal))).text;
    } finally {
      await backend.close();
    }
  };

  before(async () => {
    [server, root] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "colmena-llm-multiplex-"))]);
    dirs.a = join(root, "dec-a");
    dirs.b = join(root, "dec-b");
    await buildTinyDecoder(dirs.a, { hidden: 32 });
    await buildTinyDecoder(dirs.b, { hidden: 48 });
    const [a, b] = await Promise.all([stat(join(dirs.a, "model.onnx")), stat(join(dirs.b, "model.onnx"))]);
    budget = Math.max(a.size, b.size) + Math.floor(Math.min(a.size, b.size) / 2);
  });

  after(async () => {
    await Promise.all(systems.map((s) => s.shutdown()));
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test("llm multiplexing - model selects the decoder; the other is loaded on first use, evicting the first; concurrent requests share the load", async (t) => {
    const Llm = llmKind(
      {
        backend: { type: "extractive" },
        models: [
          { id: "dec-a", backend: { type: "onnx", modelDir: dirs.a } },
          { id: "dec-b", backend: { type: "onnx", modelDir: dirs.b } },
        ],
        memoryBudgetBytes: budget,
        limits: { maxNewTokens: 6, maxConcurrentSequences: 4 },
      },
      { kind: "llm-multiplex" },
    );
    const host = await startTestSystem(server.url, [Llm]);
    const client = await startTestSystem(server.url, []);
    systems.push(host, client);
    const pool = client.pool(Llm);

    const listed = await pool.ask({ type: "models" });
    assert.equal(listed.default, "extractive");
    assert.deepEqual(
      listed.models.map((m) => [m.id, m.state]),
      [
        ["extractive", "loaded"],
        ["dec-a", "unloaded"],
        ["dec-b", "unloaded"],
      ],
    );

    const [expectedA, expectedB] = [await alone(dirs.a), await alone(dirs.b)];
    assert.notEqual(expectedA, expectedB, "the two decoders answer differently");
    assert.equal(await text(pool.stream({ type: "generate", messages, model: "dec-a" })), expectedA);

    const sent = performance.now();
    const answers = await Promise.all(Array.from({ length: 4 }, () => text(pool.stream({ type: "generate", messages, model: "dec-b" })).then((s) => ({ s, ms: performance.now() - sent }))));
    assert.deepEqual(
      answers.map((x) => x.s),
      [expectedB, expectedB, expectedB, expectedB],
    );
    const after = await pool.ask({ type: "status" });
    const b = after.models.find((m) => m.id === "dec-b")!;
    assert.deepEqual(
      after.models.map((m) => [m.id, m.state, m.loads]),
      [
        ["extractive", "loaded", 1],
        ["dec-a", "unloaded", 1],
        ["dec-b", "loaded", 1],
      ],
    );
    assert.ok(b.queued >= 1, `requests that found dec-b loading: ${b.queued}`);
    t.diagnostic(`dec-b loaded (with its warm-up) in ${b.lastLoadMs?.toFixed(1)} ms; ${b.queued} of 4 queued; answered after ${answers.map((x) => x.ms.toFixed(1)).join(", ")} ms; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

    // No model given is the default, which needs no room and stays.
    let done: LlmStreamEvent | undefined;
    for await (const e of pool.stream({ type: "generate", messages })) done = e;
    assert.ok(done?.type === "done" && done.backend === "extractive", JSON.stringify(done));
    await assert.rejects(text(pool.stream({ type: "generate", messages, model: "gpt-4" })), (err: unknown) => {
      assert.ok(isColmenaError(err) && err.code === "NOT_FOUND");
      assert.deepEqual(err.details, { model: "gpt-4", served: ["extractive", "dec-a", "dec-b"] });
      return true;
    });
  });

  test("llm multiplexing - a node's chat route answers with the model asked for, and /v1/models shows it loaded", async () => {
    const config = loadConfig(ColmenaConfigSchema, {
      flags: {
        "nats.servers": server.url,
        namespace: "chat",
        dataDir: join(root, "node"),
        roles: ["embedder", "shard", "ingest", "query", "llm", "session", "bridge"],
        "log.level": "silent",
        "http.port": 0,
        llm: { models: [{ id: "dec-a", backend: { type: "onnx", modelDir: dirs.a } }], limits: { maxNewTokens: 6 } },
      },
    });
    const node: RunningNode = await startNode(config, { version: "0.0.0", log: pino({ level: "silent" }) });
    try {
      const url = node.httpUrl!;
      const models = async () => ((await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string; kind: string; loaded: boolean }[] }).data.filter((m) => m.kind === "llm");
      assert.deepEqual(
        (await models()).map((m) => [m.id, m.loaded]),
        [
          ["extractive", true],
          ["dec-a", false],
        ],
      );
      const chat = async (model?: string) => {
        const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...(model && { model }), messages }) });
        return { status: res.status, body: (await res.json()) as { model: string; choices: { message: { content: string } }[]; error?: { code: string } } };
      };
      const viaDecoder = await chat("dec-a");
      assert.equal(viaDecoder.status, 200);
      assert.equal(viaDecoder.body.model, "dec-a");
      const byDefault = await chat();
      assert.equal(byDefault.body.model, "extractive");
      assert.notEqual(viaDecoder.body.choices[0]!.message.content, byDefault.body.choices[0]!.message.content, "two models, two answers (and two cache entries)");
      assert.deepEqual(
        (await models()).map((m) => [m.id, m.loaded]),
        [
          ["extractive", true],
          ["dec-a", true],
        ],
      );
      const unknown = await chat("dec-z");
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error!.code, "model_not_found");
    } finally {
      await node.stop();
    }
  });
});
