import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { chatFormatter } from "../../actors/llm/chat-template.js";
import { createStepper } from "../../actors/llm/decoder-step.js";
import { kvLayout } from "../../actors/llm/kv-layout.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { openSession } from "../../actors/llm/onnx-session.js";
import { TextTokenizer } from "../../actors/llm/tokenizer.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { quantizeModel } from "../fixtures/quantize.js";
import { collect, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

// The stated tolerance: each step's int8 logits are within 5% of the float logits' largest magnitude.
const TOLERANCE = 0.05;
const STEPS = 8;
const messages = [{ role: "user" as const, content: "Where do the bees keep their honey?" }];

let model: TinyDecoder;
let int8Dir: string;

before(async () => {
  model = await tinyDecoder();
  int8Dir = join(dirname(model.dir), "int8");
  const report = await quantizeModel(model.dir, int8Dir);
  assert.ok(report.matmuls >= 9, `every projection and the lm head are integer (${report.matmuls})`);
});

after(() => removeDir(dirname(model.dir)));

/** The logits of STEPS steps, feeding the float model's greedy ids to both. */
async function logits(dir: string, forced?: number[]): Promise<{ rows: Float32Array[]; ids: number[] }> {
  const files = await readModelFiles(dir);
  const tokenizer = TextTokenizer.fromFiles(files);
  const { session } = await openSession(files.modelPath, { device: "cpu", warn: ignoreWarnings });
  try {
    const stepper = createStepper(session, kvLayout(session.inputMetadata, session.outputMetadata, files.config, dir), "kv");
    const rows: Float32Array[] = [];
    const ids: number[] = [];
    let next = tokenizer.encode(chatFormatter(files.chatTemplate, tokenizer)(messages));
    for (let step = 0; step < STEPS; step++) {
      const row = Float32Array.from(await stepper.feed(next));
      rows.push(row);
      const id = forced?.[step] ?? row.indexOf(Math.max(...row));
      ids.push(id);
      next = [id];
    }
    return { rows, ids };
  } finally {
    await session.release();
  }
}

test("quantized decoder - int8 logits stay within the stated tolerance of the float fixture at every step", async () => {
  const float = await logits(model.dir);
  const int8 = await logits(int8Dir, float.ids);
  float.rows.forEach((row, step) => {
    const scale = row.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const worst = row.reduce((m, x, i) => Math.max(m, Math.abs(x - int8.rows[step]![i]!)), 0);
    assert.ok(worst <= TOLERANCE * scale, `step ${step}: off by ${worst} of ${scale}`);
    assert.ok(worst > 0, "the int8 model computes something of its own");
  });
});

test("quantized decoder - the int8 export loads and generates through the onnx backend", async () => {
  const backend = await OnnxDecoderBackend.load({ modelDir: int8Dir, warn: ignoreWarnings });
  try {
    const got = await collect(backend.generate({ messages, maxNewTokens: 12 }, new AbortController().signal));
    assert.equal(got.done.completionTokens, 12);
    assert.equal(got.done.reason, "length");
  } finally {
    await backend.close();
  }
});
