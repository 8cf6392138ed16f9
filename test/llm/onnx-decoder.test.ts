import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import type { GenerateRequest } from "../../actors/llm/backend.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { isColmenaError } from "../../runtime/index.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { collect, copyModel, greedyIds, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

const messages: GenerateRequest["messages"] = [
  { role: "system", content: "You answer questions about bees." },
  { role: "user", content: "What does the queen do?" },
];
const live = () => new AbortController().signal;

let model: TinyDecoder;
let backend: OnnxDecoderBackend;
const scratch: string[] = [];

before(async () => {
  model = await tinyDecoder();
  backend = await OnnxDecoderBackend.load({ modelDir: model.dir, warn: ignoreWarnings });
});

after(async () => {
  await backend.close();
  for (const dir of [model.dir, ...scratch]) await removeDir(dirname(dir));
});

async function modelCopy(): Promise<string> {
  const dir = await copyModel(model.dir);
  scratch.push(dir);
  return dir;
}

test("llm onnx - reads the cache layout from the graph", () => {
  assert.deepEqual(backend.layout, { layers: 2, kvHeads: 2, headDim: 16, hasPositionIds: true });
  assert.equal(backend.device, "cpu");
  assert.equal(backend.fellBackToCpu, false);
  assert.equal(backend.id, "onnx:tiny-decoder");
});

test("llm onnx - seeded sampling is reproducible and the seed matters", async () => {
  const run = (seed: number) =>
    collect(backend.generate({ messages, maxNewTokens: 16, temperature: 1, topK: 40, topP: 0.95, seed }, live()));
  const first = await run(7);
  const again = await run(7);
  assert.equal(again.text, first.text);
  assert.deepEqual(again.tokens, first.tokens);
  const others = await Promise.all([8, 9, 10, 11].map(run));
  assert.ok(others.some((o) => o.text !== first.text), "other seeds should give another text");
});

test("llm onnx - maxNewTokens ends generation with length", async () => {
  const out = await collect(backend.generate({ messages, maxNewTokens: 5 }, live()));
  assert.equal(out.done.reason, "length");
  assert.equal(out.done.completionTokens, 5);
  assert.equal(out.done.promptTokens, backend.countTokens("<s><|system|>\nYou answer questions about bees.\n<|user|>\nWhat does the queen do?\n<|assistant|>\n"));
});

test("llm onnx - an eos id from generation_config.json ends generation with stop", async () => {
  const ids = await greedyIds(model.dir, messages, 12);
  const at = ids.findIndex((id, i) => i >= 2 && !ids.slice(0, i).includes(id));
  const dir = await modelCopy();
  await writeFile(join(dir, "generation_config.json"), JSON.stringify({ eos_token_id: [2, ids[at]] }));
  const withEos = await OnnxDecoderBackend.load({ modelDir: dir, warn: ignoreWarnings });
  try {
    const out = await collect(withEos.generate({ messages, maxNewTokens: 12 }, live()));
    const full = await collect(backend.generate({ messages, maxNewTokens: 12 }, live()));
    assert.equal(out.done.reason, "stop");
    assert.equal(out.done.completionTokens, at + 1);
    assert.ok(full.text.startsWith(out.text), "the text before eos is the start of the full text");
  } finally {
    await withEos.close();
  }
});

test("llm onnx - a stop string ends generation with stop before it", async () => {
  const full = await collect(backend.generate({ messages, maxNewTokens: 24 }, live()));
  const middle = Math.floor(full.text.length / 2);
  const stop = full.text.slice(middle, middle + 2);
  const out = await collect(backend.generate({ messages, maxNewTokens: 24, stop: ["never in the text \u0000", stop] }, live()));
  assert.equal(out.done.reason, "stop");
  assert.equal(out.text, full.text.slice(0, full.text.indexOf(stop)));
  assert.ok(out.done.completionTokens < 24);
});

test("llm onnx - an aborted signal ends generation with cancelled within one step", async () => {
  const controller = new AbortController();
  const events = [];
  let stepsAtAbort = 0;
  for await (const event of backend.generate({ messages, maxNewTokens: 64 }, controller.signal)) {
    events.push(event);
    if (event.type === "token" && !controller.signal.aborted) {
      controller.abort();
      stepsAtAbort = events.length;
    }
  }
  const done = events.at(-1);
  assert.equal(events.length, stepsAtAbort + 1, "done follows the first token at once");
  assert.ok(done?.type === "done" && done.reason === "cancelled");
  assert.ok(done.completionTokens < 64);
});

test("llm onnx - an already aborted signal generates nothing", async () => {
  const out = await collect(backend.generate({ messages, maxNewTokens: 8 }, AbortSignal.abort()));
  assert.equal(out.done.reason, "cancelled");
  assert.equal(out.done.completionTokens, 0);
  assert.equal(out.text, "");
});

test("llm onnx - device cuda:0 falls back to the cpu with a warning", async () => {
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  const gpu = await OnnxDecoderBackend.load({
    modelDir: model.dir,
    device: "cuda:0",
    warn: (msg, fields) => warnings.push({ msg, fields }),
  });
  try {
    assert.equal(gpu.fellBackToCpu, true);
    assert.equal(gpu.device, "cpu");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.fields.device, "cuda:0");
    const out = await collect(gpu.generate({ messages, maxNewTokens: 3 }, live()));
    assert.equal(out.done.completionTokens, 3);
  } finally {
    await gpu.close();
  }
});

test("llm onnx - an unknown device is INVALID", async () => {
  await assert.rejects(
    OnnxDecoderBackend.load({ modelDir: model.dir, device: "tpu:0" as "cpu", warn: ignoreWarnings }),
    (err) => isColmenaError(err, "INVALID") && err.message.includes("cuda:N"),
  );
});

test("llm onnx - a missing model directory is INVALID naming the path", async () => {
  const missing = join(dirname(model.dir), "no-such-model");
  await assert.rejects(
    OnnxDecoderBackend.load({ modelDir: missing, warn: ignoreWarnings }),
    (err) => isColmenaError(err, "INVALID") && err.message.includes(missing),
  );
});

test("llm onnx - a garbled model.onnx is INVALID naming the path", async () => {
  const dir = await modelCopy();
  await writeFile(join(dir, "model.onnx"), "not a protobuf");
  await assert.rejects(
    OnnxDecoderBackend.load({ modelDir: dir, warn: ignoreWarnings }),
    (err) => isColmenaError(err, "INVALID") && err.message.includes(join(dir, "model.onnx")),
  );
});

test("llm onnx - a malformed or missing tokenizer.json is INVALID naming the path", async () => {
  const dir = await modelCopy();
  const path = join(dir, "tokenizer.json");
  const good = await readFile(path, "utf8");
  await writeFile(path, good.slice(0, 100));
  await assert.rejects(
    OnnxDecoderBackend.load({ modelDir: dir, warn: ignoreWarnings }),
    (err) => isColmenaError(err, "INVALID") && err.message.includes(path),
  );
  await writeFile(path, JSON.stringify({ model: {} }));
  await assert.rejects(
    OnnxDecoderBackend.load({ modelDir: dir, warn: ignoreWarnings }),
    (err) => isColmenaError(err, "INVALID") && err.message.includes(path),
  );
});

test("llm onnx - an invalid request is INVALID", async () => {
  for (const req of [
    { messages, maxNewTokens: 0 },
    { messages: [], maxNewTokens: 4 },
    { messages, maxNewTokens: 4, topP: 0 },
    { messages, maxNewTokens: 4, stop: [""] },
  ]) {
    await assert.rejects(collect(backend.generate(req, live())), (err) => isColmenaError(err, "INVALID"));
  }
});

test("llm onnx - a closed backend is UNAVAILABLE", async () => {
  const closing = await OnnxDecoderBackend.load({ modelDir: model.dir, warn: ignoreWarnings });
  assert.deepEqual(await closing.health(), { models: ["onnx:tiny-decoder"], servesModel: true });
  await closing.close();
  await closing.close();
  await assert.rejects(collect(closing.generate({ messages, maxNewTokens: 2 }, live())), (err) => isColmenaError(err, "UNAVAILABLE"));
  await assert.rejects(closing.health(), (err) => isColmenaError(err, "UNAVAILABLE"));
});

test("llm onnx - a generation holds a slot while its stream is open; with none free it is OVERLOADED; no circuit", async () => {
  const single = await OnnxDecoderBackend.load({ modelDir: model.dir, maxConcurrent: 1, warn: ignoreWarnings });
  try {
    assert.equal(single.circuit, undefined, "a local backend has no circuit");
    assert.equal(single.slots.capacity, 1);
    await single.warmUp();
    const seen: number[] = [];
    const unwatch = single.slots.watch(() => seen.push(single.slots.inFlight));
    const open = single.generate({ messages, maxNewTokens: 50 }, live())[Symbol.asyncIterator]();
    assert.equal((await open.next()).done, false);
    assert.equal(single.slots.inFlight, 1);
    await assert.rejects(collect(single.generate({ messages, maxNewTokens: 2 }, live())), (err) => isColmenaError(err, "OVERLOADED") && err.retryable);
    await open.return?.();
    assert.equal(single.slots.inFlight, 0, "leaving the stream frees the slot");
    await assert.rejects(collect(single.generate({ messages, maxNewTokens: 0 }, live())), (err) => isColmenaError(err, "INVALID"));
    await collect(single.generate({ messages, maxNewTokens: 2 }, live()));
    unwatch();
    await collect(single.generate({ messages, maxNewTokens: 2 }, live()));
    assert.deepEqual(seen, [1, 0, 1, 0], "every change is watched until the watch stops; an invalid request takes no slot");
    assert.equal(backend.slots.capacity, Number.POSITIVE_INFINITY, "outside the pool there is no limit");
  } finally {
    await single.close();
  }
});
