import assert from "node:assert/strict";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import { createActor } from "xstate";
import type { GenerateRequest, LlmBackend } from "../../actors/llm/backend.js";
import { defaultBackendFactory, llmKind, type LlmStreamEvent } from "../../actors/llm/llm-actor.js";
import { llmInstanceMachine, type LlmInstanceEvent } from "../../actors/llm/llm-machine.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { ragUserContent } from "../../actors/llm/prompt.js";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { startTestServer } from "../helpers/nats-server.js";
import { statechartCoverage } from "../helpers/statechart-coverage.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";
import { collect, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

const messages: GenerateRequest["messages"] = [
  { role: "system", content: "You answer questions about bees." },
  { role: "user", content: "What does the queen do?" },
];

let server: NatsServer;
let model: TinyDecoder;
const systems: ActorSystem[] = [];

before(async () => {
  [server, model] = await Promise.all([startTestServer(), tinyDecoder()]);
});

after(async () => {
  await Promise.all(systems.map((s) => s.shutdown()));
  await server?.stop();
  if (model) await removeDir(dirname(model.dir));
});

async function system(kind: Parameters<typeof startTestSystem>[1][number]): Promise<ActorSystem> {
  const s = await startTestSystem(server.url, [kind]);
  systems.push(s);
  return s;
}

async function events(stream: AsyncIterable<LlmStreamEvent>): Promise<{ text: string; tokens: number; done: Extract<LlmStreamEvent, { type: "done" }> }> {
  let text = "";
  let tokens = 0;
  let done: Extract<LlmStreamEvent, { type: "done" }> | undefined;
  for await (const e of stream) {
    assert.equal(done, undefined, "nothing after done");
    if (e.type === "token") {
      text += e.text;
      tokens++;
    } else done = e;
  }
  assert.ok(done, "the stream ends with a done event");
  return { text, tokens, done };
}

/** A real backend whose generate goes through `generate`; its slots, circuit, health, warm-up and the rest are the real one's. */
function withGenerate(inner: LlmBackend, generate: LlmBackend["generate"], device = inner.device): LlmBackend {
  return {
    id: inner.id,
    device,
    fellBackToCpu: inner.fellBackToCpu,
    slots: inner.slots,
    circuit: inner.circuit,
    warmUp: () => inner.warmUp(),
    health: () => inner.health(),
    countTokens: (t) => inner.countTokens(t),
    close: () => inner.close(),
    generate,
  };
}

/** Wraps a real backend, recording how each generation ended and how many token events it produced. */
function recording(log: Array<{ ended: string; tokens: number }>) {
  return async (spec: Parameters<typeof defaultBackendFactory>[0]): Promise<LlmBackend> => {
    const inner = await defaultBackendFactory(spec);
    return withGenerate(inner, async function* (req, signal) {
      // Stays "returned early" when the consumer leaves before the backend's done event.
      const entry = { ended: "returned early", tokens: 0 };
      log.push(entry);
      for await (const e of inner.generate(req, signal)) {
        if (e.type === "token") entry.tokens++;
        else entry.ended = e.reason;
        yield e;
      }
    });
  };
}

test("llm actor - streams the decoder's tokens through the pool and reports its status", async () => {
  const Llm = llmKind({ backend: { type: "onnx", modelDir: model.dir }, limits: { maxNewTokens: 8 } }, { kind: "llm-stream" });
  const s = await system(Llm);
  const pool = s.pool(Llm);
  const out = await events(pool.stream({ type: "generate", messages, maxNewTokens: 50 }));
  assert.equal(out.done.reason, "length");
  assert.equal(out.done.completionTokens, 8, "maxNewTokens is clamped to the instance's limit");
  assert.equal(out.done.backend, "onnx:tiny-decoder");
  assert.equal(out.done.device, "cpu");
  assert.deepEqual(out.done.trimmed, { history: 0, passages: 0 });
  assert.ok(out.tokens >= 1);

  const direct = await OnnxDecoderBackend.load({ modelDir: model.dir, warn: ignoreWarnings });
  try {
    const expected = await collect(direct.generate({ messages, maxNewTokens: 8 }, new AbortController().signal));
    assert.equal(out.text, expected.text, "the actor streams what the backend generates");
  } finally {
    await direct.close();
  }

  const status = await pool.ask({ type: "status" });
  assert.equal(status.state, "ready");
  assert.equal(status.device, "cpu");
  assert.equal(status.fellBackToCpu, false);
  assert.equal(status.inFlight, 0);
  assert.equal(status.waiting, 0);
  assert.equal(status.backend, "onnx:tiny-decoder");
});

test("llm actor - leaving the stream after one token stops generation and frees the slot", async () => {
  const log: Array<{ ended: string; tokens: number }> = [];
  const Llm = llmKind(
    { backend: { type: "onnx", modelDir: model.dir }, limits: { maxConcurrentSequences: 1, maxNewTokens: 400 } },
    { kind: "llm-cancel", createBackend: recording(log) },
  );
  const pool = (await system(Llm)).pool(Llm);
  let seen = 0;
  for await (const e of pool.stream({ type: "generate", messages, maxNewTokens: 400 })) {
    assert.equal(e.type, "token");
    seen++;
    break;
  }
  assert.equal(seen, 1);
  const status = await pool.ask({ type: "status" });
  assert.equal(status.inFlight, 0);
  assert.equal(status.state, "ready");
  assert.equal(log.length, 1);
  assert.ok(log[0]!.ended === "cancelled" || log[0]!.ended === "returned early", `the first generation ended by ${log[0]!.ended}`);
  assert.ok(log[0]!.tokens < 100, `generation stopped early (${log[0]!.tokens} tokens of up to 400)`);

  const second = await events(pool.stream({ type: "generate", messages, maxNewTokens: 5 }));
  assert.equal(second.done.reason, "length");
  assert.equal(second.done.completionTokens, 5);
});

test("llm actor - status counts sequences with the backend's slots, which the factory sizes from the config", async () => {
  const loaded: LlmBackend[] = [];
  const Llm = llmKind(
    { backend: { type: "onnx", modelDir: model.dir }, limits: { maxConcurrentSequences: 2, maxNewTokens: 400 } },
    {
      kind: "llm-slots",
      createBackend: async (spec) => {
        const backend = await defaultBackendFactory(spec);
        loaded.push(backend);
        return backend;
      },
    },
  );
  const pool = (await system(Llm)).pool(Llm);
  assert.equal(loaded.length, 1);
  const [backend] = loaded as [LlmBackend];
  assert.equal(backend.slots.capacity, 2);
  // A holds one slot: its consumer reads one token, so the producer stops at its stream credit.
  const a = pool.stream({ type: "generate", messages, maxNewTokens: 400 })[Symbol.asyncIterator]();
  assert.equal((await a.next()).done, false);
  const holding = await pool.ask({ type: "status" });
  assert.deepEqual([holding.inFlight, holding.maxConcurrentSequences, holding.state], [1, 2, "ready"]);
  assert.equal(backend.slots.inFlight, 1);
  // B takes the other: the instance is full, and a status waits for a slot of the cell.
  const b = pool.stream({ type: "generate", messages, maxNewTokens: 400 })[Symbol.asyncIterator]();
  assert.equal((await b.next()).done, false);
  assert.equal(backend.slots.inFlight, 2);
  const waited = pool.ask({ type: "status" });
  await a.return?.();
  const freed = await waited;
  assert.deepEqual([freed.inFlight, freed.state], [1, "ready"], "leaving A freed its slot and the instance serves again");
  await b.return?.();
  // With a cell slot free, a status may run before B's cancel reaches the instance.
  await waitFor("leaving B frees its slot", async () => (await pool.ask({ type: "status" })).inFlight === 0);
});

test("llm actor - device cuda:0 falls back to the cpu and status shows it", async () => {
  const Llm = llmKind({ backend: { type: "onnx", modelDir: model.dir, device: "cuda:0" } }, { kind: "llm-fallback" });
  const pool = (await system(Llm)).pool(Llm);
  const status = await pool.ask({ type: "status" });
  assert.equal(status.requestedDevice, "cuda:0");
  assert.equal(status.device, "cpu");
  assert.equal(status.fellBackToCpu, true);
  assert.equal(status.state, "ready");
  const out = await events(pool.stream({ type: "generate", messages, maxNewTokens: 3 }));
  assert.equal(out.done.device, "cpu");
  assert.equal(out.done.completionTokens, 3);
});

test("llm actor - a device crash restarts the instance on the cpu", async () => {
  const loads: string[] = [];
  const Llm = llmKind(
    { backend: { type: "onnx", modelDir: model.dir, device: "cuda:0" } },
    {
      kind: "llm-crash",
      createBackend: async (spec) => {
        loads.push(spec.device);
        const inner = await OnnxDecoderBackend.load({ modelDir: model.dir, maxConcurrent: spec.slots, warn: ignoreWarnings });
        if (spec.device === "cpu") return inner;
        // A GPU that dies after the warm-up (the real one's): onnxruntime's CUDA errors are plain Errors.
        return withGenerate(
          inner,
          async function* () {
            throw new Error("CUDA failure 700: an illegal memory access was encountered");
          },
          spec.device,
        );
      },
    },
  );
  const pool = (await system(Llm)).pool(Llm);
  assert.equal((await pool.ask({ type: "status" })).device, "cuda:0");
  await assert.rejects(events(pool.stream({ type: "generate", messages, maxNewTokens: 3 })), (e) => isColmenaError(e, "INTERNAL"));
  const status = await pool.ask({ type: "status" }, { timeoutMs: 5_000 });
  assert.deepEqual(loads, ["cuda:0", "cpu"]);
  assert.equal(status.device, "cpu");
  assert.equal(status.requestedDevice, "cuda:0");
  assert.equal(status.fellBackToCpu, true);
  assert.equal(status.restarts, 1);
  assert.equal(status.state, "ready");
  const out = await events(pool.stream({ type: "generate", messages, maxNewTokens: 2 }));
  assert.equal(out.done.completionTokens, 2);
});

test("llm actor - a request beyond maxWaiting is OVERLOADED with a retry hint", async () => {
  const Llm = llmKind({ backend: { type: "onnx", modelDir: model.dir }, limits: { maxConcurrentSequences: 1, maxWaiting: 1, maxNewTokens: 400 } }, { kind: "llm-overload" });
  const pool = (await system(Llm)).pool(Llm);
  // A holds the only slot: its consumer reads one token, so the producer stops at its stream credit.
  const a = pool.stream({ type: "generate", messages, maxNewTokens: 400 })[Symbol.asyncIterator]();
  assert.equal((await a.next()).done, false);
  // B waits in the mailbox (capacity maxWaiting = 1).
  const b = events(pool.stream({ type: "generate", messages, maxNewTokens: 4 }));
  // C finds no room.
  await assert.rejects(events(pool.stream({ type: "generate", messages, maxNewTokens: 4 })), (e) => {
    assert.ok(isColmenaError(e, "OVERLOADED"), String(e));
    assert.equal(e.retryable, true);
    assert.ok((e.retryAfterMs ?? 0) > 0);
    return true;
  });
  await a.return?.();
  const out = await b;
  assert.equal(out.done.completionTokens, 4);
  const status = await pool.ask({ type: "status" });
  assert.equal(status.inFlight, 0);
});

test("llm actor - a generation over requestTimeoutMs ends with TIMEOUT", async () => {
  const Llm = llmKind(
    { limits: { requestTimeoutMs: 100 } },
    {
      kind: "llm-timeout",
      createBackend: async (spec) => {
        const inner = await defaultBackendFactory(spec);
        return withGenerate(inner, async function* (req, signal) {
          let first = true;
          for await (const e of inner.generate(req, signal)) {
            yield e;
            // After its first token, a step that never ends: it waits for its signal, and the real backend then ends the stream cancelled.
            if (first) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
            first = false;
          }
        });
      },
    },
  );
  const pool = (await system(Llm)).pool(Llm);
  await assert.rejects(events(pool.stream({ type: "generate", messages, maxNewTokens: 10 }, { timeoutMs: 10_000 })), (e) => isColmenaError(e, "TIMEOUT"));
  assert.equal((await pool.ask({ type: "status" })).inFlight, 0);
});

test("llm actor - a prompt over maxPromptTokens drops the oldest history first", async () => {
  const Llm = llmKind({ limits: { maxPromptTokens: 60 } }, { kind: "llm-budget" });
  const pool = (await system(Llm)).pool(Llm);
  const long = "bees ".repeat(20);
  const out = await events(
    pool.stream({
      type: "generate",
      messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: long },
        { role: "assistant", content: long },
        { role: "user", content: ragUserContent({ question: "What does the queen do?", passages: [{ text: "The queen lays the eggs." }] }) },
      ],
      maxNewTokens: 40,
    }),
  );
  assert.deepEqual(out.done.trimmed, { history: 2, passages: 0 });
  assert.match(out.text, /queen lays the eggs \[1\]/);
  await assert.rejects(
    events(pool.stream({ type: "generate", messages: [{ role: "user", content: long.repeat(3) }], maxNewTokens: 4 })),
    (e) => isColmenaError(e, "INVALID") && /maxPromptTokens/.test(e.message),
  );
});

/** Every event the instance's statechart takes, FAIL both with and without a device failure. */
const INSTANCE_EVENTS: LlmInstanceEvent[] = [
  { type: "LOAD" },
  { type: "LOADED" },
  { type: "WARMED" },
  { type: "SATURATE" },
  { type: "FREE" },
  { type: "FAIL", deviceFailed: false },
  { type: "FAIL", deviceFailed: true },
  { type: "RESTART" },
  { type: "DRAIN" },
  { type: "DRAINED" },
];

test("llm actor - every state and transition of the instance statechart is reachable", () => {
  const c = statechartCoverage(llmInstanceMachine, INSTANCE_EVENTS);
  assert.deepEqual(c.states.reached, c.states.all);
  assert.deepEqual(c.transitions.reached, c.transitions.all);
  assert.deepEqual(c.states.all, ["unloaded", "loading", "warming", "ready", "busy", "failed", "draining"].map((s) => `llm.${s}`));
  assert.equal(c.transitions.all.length, 13);
});

test("llm actor - a device failure sends every later load of the instance to the cpu; a drained instance loads again", () => {
  const instance = createActor(llmInstanceMachine).start();
  const send = (...types: Array<Exclude<LlmInstanceEvent["type"], "FAIL">>) => types.forEach((type) => instance.send({ type }));
  const fail = (deviceFailed: boolean) => instance.send({ type: "FAIL", deviceFailed });
  const now = () => ({ state: instance.getSnapshot().value, deviceFailed: instance.getSnapshot().context.deviceFailed });

  send("LOAD", "LOADED", "WARMED", "SATURATE");
  assert.deepEqual(now(), { state: "busy", deviceFailed: false });
  send("FREE", "DRAIN", "DRAINED", "LOAD");
  assert.deepEqual(now(), { state: "loading", deviceFailed: false });
  fail(false);
  send("RESTART");
  assert.deepEqual(now(), { state: "unloaded", deviceFailed: false }, "a failure that is not the device's");
  send("LOAD", "LOADED", "WARMED");
  fail(true);
  assert.deepEqual(now(), { state: "failed", deviceFailed: true });
  send("RESTART", "LOAD");
  fail(false);
  assert.deepEqual(now(), { state: "failed", deviceFailed: true }, "a later failure on the cpu does not bring the device back");
  // The warm-up's own sequence fills the slots before the instance serves: that is not busy.
  send("RESTART", "LOAD", "LOADED", "SATURATE", "FREE");
  assert.deepEqual(now(), { state: "warming", deviceFailed: true });
  instance.stop();
});
