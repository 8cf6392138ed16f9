import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import type { InferenceSession } from "onnxruntime-node";
import { kvLayout } from "../../actors/llm/kv-layout.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { OnnxDecoderBackend } from "../../actors/llm/onnx-decoder.js";
import { isColmenaError } from "../../runtime/index.js";
import { CHAT_TEMPLATE } from "../fixtures/decoder/build-decoder.js";
import { collect, ignoreWarnings, removeDir, tinyDecoder } from "./helpers.js";

type Meta = InferenceSession.ValueMetadata;

const tensor = (name: string, shape: (number | string)[], type: "float32" | "int64" = "float32"): Meta => ({
  name,
  isTensor: true,
  type,
  shape,
});

function exportMeta(layers: number, pastShape: (number | string)[]): { inputs: Meta[]; outputs: Meta[] } {
  const inputs = [tensor("input_ids", ["b", "s"], "int64"), tensor("attention_mask", ["b", "t"], "int64")];
  const outputs = [tensor("logits", ["b", "s", 100])];
  for (let l = 0; l < layers; l++) {
    for (const kind of ["key", "value"]) {
      inputs.push(tensor(`past_key_values.${l}.${kind}`, pastShape));
      outputs.push(tensor(`present.${l}.${kind}`, pastShape));
    }
  }
  return { inputs, outputs };
}

test("kv layout - symbolic head dims fall back to config.json", () => {
  const { inputs, outputs } = exportMeta(3, ["b", "kv_heads", "p", "head_dim"]);
  const config = { num_attention_heads: 8, num_key_value_heads: 2, hidden_size: 64 };
  assert.deepEqual(kvLayout(inputs, outputs, config, "m.onnx"), { layers: 3, kvHeads: 2, headDim: 8, hasPositionIds: false });
  assert.deepEqual(kvLayout(inputs, outputs, { num_attention_heads: 4, head_dim: 32 }, "m.onnx"), {
    layers: 3,
    kvHeads: 4,
    headDim: 32,
    hasPositionIds: false,
  });
  assert.throws(
    () => kvLayout(inputs, outputs, {}, "m.onnx"),
    (err) => isColmenaError(err, "INVALID") && err.message.includes("m.onnx"),
  );
});

test("kv layout - graphs without the Optimum cache interface are INVALID", () => {
  const { inputs, outputs } = exportMeta(2, ["b", 4, "p", 16]);
  const cases: [Meta[], Meta[], string][] = [
    [[...inputs, tensor("use_cache_branch", [1])], outputs, "use_cache_branch"],
    [inputs.filter((m) => m.name !== "past_key_values.1.value"), outputs, "past_key_values.1.value"],
    [inputs, outputs.filter((m) => m.name !== "present.0.key"), "present.0.key"],
    [inputs.slice(0, 2), outputs, "no past_key_values"],
    [inputs, outputs.filter((m) => m.name !== "logits"), "logits"],
    [inputs, outputs.map((m) => (m.name === "logits" ? { ...m, type: "float16" as const } : m)), "float16"],
  ];
  for (const [ins, outs, why] of cases) {
    assert.throws(
      () => kvLayout(ins, outs, {}, "m.onnx"),
      (err) => isColmenaError(err, "INVALID") && err.message.includes(why),
      why,
    );
  }
});

test("kv layout - a fixture of another shape loads and decodes", async () => {
  const model = await tinyDecoder({ layers: 3, hidden: 24, heads: 3, vocab: 300 });
  try {
    const backend = await OnnxDecoderBackend.load({ modelDir: model.dir, warn: ignoreWarnings });
    try {
      assert.deepEqual(backend.layout, { layers: 3, kvHeads: 3, headDim: 8, hasPositionIds: true });
      const out = await collect(backend.generate({ messages: [{ role: "user", content: "hi" }], maxNewTokens: 4 }, new AbortController().signal));
      assert.equal(out.done.completionTokens, 4);
    } finally {
      await backend.close();
    }
  } finally {
    await removeDir(dirname(model.dir));
  }
});

test("model files - the chat template comes from tokenizer_config.json, else chat_template.jinja", async () => {
  const model = await tinyDecoder();
  try {
    assert.equal((await readModelFiles(model.dir)).chatTemplate, CHAT_TEMPLATE);
    const configPath = join(model.dir, "tokenizer_config.json");
    const { chat_template: _, ...rest } = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify(rest));
    assert.equal((await readModelFiles(model.dir)).chatTemplate, undefined);
    await writeFile(join(model.dir, "chat_template.jinja"), "{{ messages[0]['content'] }}");
    assert.equal((await readModelFiles(model.dir)).chatTemplate, "{{ messages[0]['content'] }}");
    await writeFile(configPath, JSON.stringify({ ...rest, chat_template: [{ name: "default", template: "named" }] }));
    assert.equal((await readModelFiles(model.dir)).chatTemplate, "named");
  } finally {
    await removeDir(dirname(model.dir));
  }
});
