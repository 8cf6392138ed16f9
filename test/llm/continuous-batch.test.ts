import assert from "node:assert/strict";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import type { GenerateRequest } from "../../actors/llm/backend.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { TextTokenizer } from "../../actors/llm/tokenizer.js";
import { isColmenaError } from "../../runtime/index.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { collect, type Collected, greedyIds, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

let model: TinyDecoder;
let backend: OnnxDecoderBackend;

before(async () => {
  model = await tinyDecoder();
  backend = await OnnxDecoderBackend.load({ modelDir: model.dir, warn: ignoreWarnings });
});

after(async () => {
  await backend.close();
  await removeDir(dirname(model.dir));
});

const QUESTIONS = [
  "What does the queen do?",
  "Where is the honey kept?",
  "Who collects nectar from the flowers and brings it back to the hive every day?",
  "Drones?",
  "How does a colony answer questions about the documents it stores, with citations?",
  "What is wax for?",
  "Tell me about worker bees.",
  "Which passages does the retriever find for a question about other colonies?",
];

const request = (i: number): GenerateRequest => ({
  messages: [{ role: "user", content: QUESTIONS[i % QUESTIONS.length]! }],
  // Different lengths, so sequences leave the batch at different steps.
  maxNewTokens: 6 + 3 * i,
});
const live = () => new AbortController().signal;

test("llm continuous batching - greedy text of every concurrent sequence is the text it gets alone", async () => {
  const alone: Collected[] = [];
  for (let i = 0; i < QUESTIONS.length; i++) alone.push(await collect(backend.generate(request(i), live())));
  const before = { ...backend.batcher.stats };
  // Half start at once; the other half join while the first are decoding.
  const first = QUESTIONS.slice(0, 4).map((_, i) => collect(backend.generate(request(i), live())));
  await new Promise((resolve) => setTimeout(resolve, 5));
  const later = QUESTIONS.slice(4).map((_, i) => collect(backend.generate(request(i + 4), live())));
  const together = await Promise.all([...first, ...later]);
  together.forEach((got, i) => {
    assert.equal(got.text, alone[i]!.text, `sequence ${i}`);
    assert.deepEqual(got.done, alone[i]!.done, `sequence ${i}`);
  });
  const steps = backend.batcher.stats.steps - before.steps;
  const rows = backend.batcher.stats.rowsStepped - before.rowsStepped;
  assert.ok(rows > steps, `sequences shared steps (${rows} rows in ${steps} steps)`);
  assert.equal(backend.batcher.open, 0, "every sequence left the batch");
});

test("llm continuous batching - a sequence decoded beside others gives the ids of the single-sequence stepper", async () => {
  // The reference never goes through the batcher: its own session, batch 1, its own cache.
  const ids = await greedyIds(model.dir, request(2).messages, 12);
  const tokenizer = TextTokenizer.fromFiles(await readModelFiles(model.dir));
  const concurrent = await Promise.all([0, 1, 2, 3].map((i) => collect(backend.generate({ ...request(i), maxNewTokens: 12 }, live()))));
  assert.equal(concurrent[2]!.text, tokenizer.decode(ids));
  assert.equal(concurrent[2]!.done.completionTokens, ids.length);
});

test("llm continuous batching - a cancelled sequence leaves between steps and the others finish unchanged", async () => {
  const alone = await collect(backend.generate(request(5), live()));
  const abort = new AbortController();
  const cancelled = (async () => {
    let tokens = 0;
    let reason = "";
    for await (const e of backend.generate({ ...request(7), maxNewTokens: 200 }, abort.signal)) {
      if (e.type === "token" && ++tokens === 3) abort.abort();
      if (e.type === "done") reason = e.reason;
    }
    return reason;
  })();
  const other = collect(backend.generate(request(5), live()));
  assert.equal(await cancelled, "cancelled");
  const got = await other;
  assert.equal(got.text, alone.text);
  assert.equal(backend.slots.inFlight, 0);
  assert.equal(backend.batcher.open, 0);
});

test("llm continuous batching - a token budget smaller than any prompt still takes one prompt per turn, and the text is the same", async () => {
  const tight = await OnnxDecoderBackend.load({ modelDir: model.dir, maxTokensPerStep: 1, warn: ignoreWarnings });
  try {
    const alone = await Promise.all([0, 1, 2].map((i) => collect(backend.generate(request(i), live()))));
    const got = await Promise.all([0, 1, 2].map((i) => collect(tight.generate(request(i), live()))));
    got.forEach((g, i) => assert.equal(g.text, alone[i]!.text, `sequence ${i}`));
    assert.equal(tight.batcher.stats.prefills, 3);
  } finally {
    await tight.close();
  }
});

test("llm continuous batching - a sequence is fed its prompt once, then one id per step", async () => {
  const seq = backend.batcher.join();
  try {
    await assert.rejects(seq.feed([]), (err) => isColmenaError(err, "INTERNAL"));
    await seq.feed([1, 40, 50]);
    await assert.rejects(seq.feed([60, 61]), (err) => isColmenaError(err, "INTERNAL"));
    assert.equal((await seq.feed([60])).length, model.vocab);
    assert.equal(seq.length, 4);
  } finally {
    seq.leave();
  }
  await assert.rejects(seq.feed([61]), (err) => isColmenaError(err, "UNAVAILABLE"));
});
