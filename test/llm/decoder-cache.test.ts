import assert from "node:assert/strict";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import { chatFormatter } from "../../actors/llm/chat-template.js";
import { createStepper } from "../../actors/llm/decoder-step.js";
import type { CacheMode } from "../../actors/llm/decoder-step.js";
import { kvLayout } from "../../actors/llm/kv-layout.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { openSession } from "../../actors/llm/onnx-session.js";
import type { OpenedSession } from "../../actors/llm/onnx-session.js";
import { argmax } from "../../actors/llm/sampling.js";
import { TextTokenizer } from "../../actors/llm/tokenizer.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { collect, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

const STEPS = 24;
const messages = [{ role: "user" as const, content: "Where do the bees keep their honey?" }];

let model: TinyDecoder;
let opened: OpenedSession;
let promptIds: number[];

before(async () => {
  model = await tinyDecoder();
  const files = await readModelFiles(model.dir);
  const tokenizer = TextTokenizer.fromFiles(files);
  promptIds = tokenizer.encode(chatFormatter(files.chatTemplate, tokenizer)(messages));
  opened = await openSession(files.modelPath, { device: "cpu", warn: ignoreWarnings });
});

after(async () => {
  await opened.session.release();
  await removeDir(dirname(model.dir));
});

/** Greedy decoding through one stepper: the ids it picks and the logits it saw at each step. */
async function greedy(mode: CacheMode, forced?: number[]): Promise<{ ids: number[]; logits: Float32Array[] }> {
  const layout = kvLayout(opened.session.inputMetadata, opened.session.outputMetadata, {}, model.dir);
  const stepper = createStepper(opened.session, layout, mode);
  const ids: number[] = [];
  const logits: Float32Array[] = [];
  let next = promptIds;
  for (let step = 0; step < STEPS; step++) {
    const row = Float32Array.from(await stepper.feed(next));
    logits.push(row);
    const id = forced?.[step] ?? argmax(row);
    ids.push(id);
    next = [id];
  }
  return { ids, logits };
}

test("llm decoder - logits with the KV cache equal full recomputation at every step", async () => {
  const cached = await greedy("kv");
  const recomputed = await greedy("recompute", cached.ids);
  assert.equal(cached.logits.length, STEPS);
  cached.logits.forEach((row, step) => {
    const other = recomputed.logits[step] as Float32Array;
    assert.equal(row.length, model.vocab);
    let worst = 0;
    row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (other[i] as number)))));
    assert.ok(worst < 1e-4, `step ${step}: logits differ by ${worst}`);
  });
});

test("llm decoder - greedy decoding picks the same ids with the cache and with recomputation", async () => {
  const cached = await greedy("kv");
  const recomputed = await greedy("recompute");
  assert.deepEqual(recomputed.ids, cached.ids);
  assert.ok(new Set(cached.ids).size > 1, "the fixture should not repeat one token");
});

test("llm decoder - the onnx backend streams the same text in kv and recompute modes", async () => {
  const run = async (cache: CacheMode) => {
    const backend = await OnnxDecoderBackend.load({ modelDir: model.dir, cache, warn: ignoreWarnings });
    try {
      return await collect(backend.generate({ messages, maxNewTokens: STEPS }, new AbortController().signal));
    } finally {
      await backend.close();
    }
  };
  const kv = await run("kv");
  const recompute = await run("recompute");
  assert.equal(kv.text, recompute.text);
  assert.deepEqual(kv.done, recompute.done);
  assert.equal(kv.done.completionTokens, STEPS);
  assert.equal(kv.done.promptTokens, promptIds.length);
});
