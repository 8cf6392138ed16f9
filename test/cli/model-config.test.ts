import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeConfig } from "../../cli/config.js";
import { startupConfig, StartupMistake } from "../../cli/startup-check.js";
import { isColmenaError } from "../../runtime/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { buildTinyDecoder } from "../fixtures/decoder/build-decoder.js";

/** Several models per kind in the config: the single-model form still the default, each extra model's files and its room under the budget checked at start. */
describe("colmena config - several models per kind", () => {
  let dir: string;
  let encoder: string;
  let decoder: string;
  let encoderBytes: number;
  let decoderBytes: number;
  const write = async (name: string, value: unknown) => {
    await writeFile(join(dir, name), JSON.stringify(value));
    return join(dir, name);
  };
  const mistake = (needle: string) => (err: unknown) => err instanceof StartupMistake && err.message.includes(needle);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-model-config-"));
    encoder = join(dir, "enc");
    decoder = join(dir, "dec");
    await buildTinyEncoder(encoder, { hidden: 16 });
    await buildTinyDecoder(decoder);
    encoderBytes = (await stat(join(encoder, "model.onnx"))).size;
    decoderBytes = (await stat(join(decoder, "model.onnx"))).size;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("model config - the single-model form is the default model with no others and no budget", () => {
    const config = nodeConfig({}, {});
    assert.deepEqual(config.retrieval.embedder.models, []);
    assert.equal(config.retrieval.embedder.memoryBudgetBytes, undefined);
    assert.deepEqual(config.llm.models, []);
    assert.equal(config.llm.memoryBudgetBytes, undefined);
  });

  test("model config - models and a budget from a file pass the start-up check when each fits beside the default", async () => {
    const file = await write("ok.json", {
      retrieval: { embedder: { models: [{ id: "enc", modelDir: encoder }], memoryBudgetBytes: encoderBytes } },
      llm: { models: [{ id: "dec", backend: { type: "onnx", modelDir: decoder } }], memoryBudgetBytes: decoderBytes },
    });
    const config = await startupConfig({ config: file, roles: ["embedder", "llm"] }, {});
    assert.equal(config.retrieval.embedder.models[0]!.backend, "onnx", "an extra embedder is onnx unless it says otherwise");
    assert.equal(config.llm.models[0]!.id, "dec");
  });

  test("model config - two models with one id are refused, naming the key", async () => {
    const file = await write("twice.json", { llm: { models: [{ id: "extractive", backend: { type: "extractive" } }] } });
    await assert.rejects(startupConfig({ config: file }, {}), (err: unknown) => isColmenaError(err, "INVALID") && err.message.includes("llm.models.0.id") && err.message.includes("used twice"));
    const embedders = await write("twice-e.json", { retrieval: { embedder: { models: [{ id: "x", modelDir: encoder }, { id: "x", modelDir: encoder }] } } });
    await assert.rejects(startupConfig({ config: embedders }, {}), (err: unknown) => isColmenaError(err, "INVALID") && err.message.includes("retrieval.embedder.models"));
  });

  test("model config - an extra model's missing folder stops start-up, naming its key", async () => {
    const file = await write("missing.json", { retrieval: { embedder: { models: [{ id: "gone", modelDir: join(dir, "nowhere") }] } } });
    await assert.rejects(startupConfig({ config: file, roles: ["embedder"] }, {}), mistake("retrieval.embedder.models.0.modelDir"));
    const llm = await write("missing-llm.json", { llm: { models: [{ id: "gone", backend: { type: "onnx", modelDir: join(dir, "nowhere") } }] } });
    await assert.rejects(startupConfig({ config: llm, roles: ["llm"] }, {}), mistake("llm.models.0.backend.modelDir"));
  });

  test("model config - a model that cannot fit beside the kept default under the budget stops start-up, naming it", async () => {
    const file = await write("big.json", { retrieval: { embedder: { models: [{ id: "enc", modelDir: encoder }], memoryBudgetBytes: encoderBytes - 1 } } });
    await assert.rejects(startupConfig({ config: file, roles: ["embedder"] }, {}), mistake("retrieval.embedder.models.0"));
    const declared = await write("declared.json", { llm: { memoryBytes: 10, models: [{ id: "dec", backend: { type: "onnx", modelDir: decoder }, memoryBytes: 5 }], memoryBudgetBytes: 12 } });
    await assert.rejects(startupConfig({ config: declared, roles: ["llm"] }, {}), mistake("llm.models.0"));
    const tooBigDefault = await write("default.json", { llm: { memoryBytes: 13, memoryBudgetBytes: 12 } });
    await assert.rejects(startupConfig({ config: tooBigDefault, roles: ["llm"] }, {}), mistake("llm.memoryBudgetBytes"));
  });
});
