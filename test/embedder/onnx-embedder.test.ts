import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as ort from "onnxruntime-node";
import { OnnxEmbedder } from "../../actors/embedder/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";

let root: string;
const dirs = { bert: "", noTypes: "", symbolic: "" };
const HIDDEN = 24;
const MAX_POSITIONS = 40;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "colmena-encoder-"));
  dirs.bert = join(root, "tiny-bert");
  dirs.noTypes = join(root, "tiny-no-types");
  dirs.symbolic = join(root, "tiny-symbolic");
  await buildTinyEncoder(dirs.bert, { hidden: HIDDEN, maxPositions: MAX_POSITIONS });
  await buildTinyEncoder(dirs.noTypes, { hidden: HIDDEN, maxPositions: MAX_POSITIONS, withTokenTypes: false, seed: 2 });
  await buildTinyEncoder(dirs.symbolic, { hidden: 16, symbolicHidden: true, outputName: "token_embeddings" });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const TEXTS = [
  "the cat",
  "a much longer sentence about the cluster of nodes and their shard replicas",
  "Coffee!",
  "vector search with an index of documents",
];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const isInvalidAt = (path: string) => (err: unknown) => isColmenaError(err, "INVALID") && err.details?.path === path;

async function withEmbedder<T>(dir: string, fn: (e: OnnxEmbedder) => Promise<T>, opts = {}): Promise<T> {
  const e = await OnnxEmbedder.load(dir, opts);
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}

for (const [label, key] of [["with token_type_ids", "bert"], ["without token_type_ids", "noTypes"]] as const) {
  test(`onnx embedder - a text embeds the same alone and in a padded batch (${label})`, () =>
    withEmbedder(dirs[key], async (e) => {
      const batch = await e.embed(TEXTS);
      for (const [i, text] of TEXTS.entries()) {
        const [alone] = await e.embed([text]);
        assert.ok(maxDiff(alone!.vector, batch[i]!.vector) < 1e-5, `text ${i} differs by ${maxDiff(alone!.vector, batch[i]!.vector)}`);
      }
      assert.ok(dot(batch[0]!.vector, batch[1]!.vector) < 0.999, "different texts give different vectors");
    }));

  test(`onnx embedder - vectors are unit length with the model's dimension (${label})`, () =>
    withEmbedder(dirs[key], async (e) => {
      assert.equal(e.dimension, HIDDEN);
      for (const r of await e.embed(TEXTS)) {
        assert.equal(r.vector.length, HIDDEN);
        assert.ok(Math.abs(Math.sqrt(dot(r.vector, r.vector)) - 1) < 1e-5);
      }
    }));
}

test("onnx embedder - the vector is the normalised mean of last_hidden_state over the text's tokens", () =>
  withEmbedder(dirs.noTypes, async (e) => {
    const [result] = await e.embed(["The cat"]);
    assert.equal(result!.tokens, 4, "[CLS] the cat [SEP]");
    const { model } = JSON.parse(await readFile(join(dirs.noTypes, "tokenizer.json"), "utf8")) as { model: { vocab: Record<string, number> } };
    const ids = ["[CLS]", "the", "cat", "[SEP]"].map((t) => BigInt(model.vocab[t]!));
    const session = await ort.InferenceSession.create(join(dirs.noTypes, "model.onnx"));
    const out = await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids), [1, 4]),
      attention_mask: new ort.Tensor("int64", BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
    });
    await session.release();
    const hidden = out.last_hidden_state!.data as Float32Array;
    const mean = Float32Array.from({ length: HIDDEN }, (_, d) => [0, 1, 2, 3].reduce((sum, t) => sum + hidden[t * HIDDEN + d]!, 0) / 4);
    const expected = mean.map((x) => x / Math.sqrt(dot(mean, mean)));
    assert.ok(maxDiff(result!.vector, expected) < 1e-6, `differs by ${maxDiff(result!.vector, expected)}`);
  }));

test("onnx embedder - a text longer than maxTokens is truncated and flagged", () =>
  withEmbedder(dirs.bert, async (e) => {
    assert.equal(e.maxTokens, MAX_POSITIONS, "read from tokenizer.json's truncation");
    const long = Array.from({ length: 100 }, (_, i) => (i % 2 ? "cluster" : "node")).join(" ");
    const [counted] = e.countTokens([long]);
    assert.equal(counted, 102);
    const [truncated, short] = await e.embed([long, "the cat"]);
    assert.deepEqual([truncated!.truncated, truncated!.tokens], [true, MAX_POSITIONS]);
    assert.deepEqual([short!.truncated, short!.tokens], [false, 4]);
    const prefix = Array.from({ length: MAX_POSITIONS - 2 }, (_, i) => (i % 2 ? "cluster" : "node")).join(" ");
    const [same] = await e.embed([prefix]);
    assert.ok(maxDiff(same!.vector, truncated!.vector) < 1e-5, "truncation keeps [CLS] + the head + [SEP]");
  }));

test("onnx embedder - maxTokens can be lowered, and it changes the id", async () => {
  await withEmbedder(dirs.bert, async (e) => assert.equal(e.id, "onnx:tiny-bert"));
  await withEmbedder(
    dirs.bert,
    async (e) => {
      assert.equal(e.id, "onnx:tiny-bert-t6");
      const [r] = await e.embed(["one two three four five six"]);
      assert.deepEqual([r!.truncated, r!.tokens], [true, 6]);
    },
    { maxTokens: 6, intraOpNumThreads: 1, interOpNumThreads: 1 },
  );
});

test("onnx embedder - a symbolic hidden size is learnt from inference, and another output name is used", () =>
  withEmbedder(dirs.symbolic, async (e) => {
    assert.equal(e.dimension, 16);
    assert.equal(e.maxTokens, 64);
    const [r] = await e.embed(["symbolic dimension"]);
    assert.equal(r!.vector.length, 16);
  }));

test("onnx embedder - a missing directory, model.onnx or tokenizer.json is INVALID naming the path", async () => {
  const missingDir = join(root, "no-such-model");
  await assert.rejects(OnnxEmbedder.load(missingDir), isInvalidAt(missingDir));
  await assert.rejects(OnnxEmbedder.load(dirs.bert, { modelFile: "model_quantized.onnx" }), isInvalidAt(join(dirs.bert, "model_quantized.onnx")));
  const noTokenizer = join(root, "no-tokenizer");
  await buildTinyEncoder(noTokenizer);
  await rm(join(noTokenizer, "tokenizer.json"));
  await assert.rejects(OnnxEmbedder.load(noTokenizer), isInvalidAt(join(noTokenizer, "tokenizer.json")));
});

test("onnx embedder - a garbled model.onnx or tokenizer.json is INVALID naming the path", async () => {
  const garbledModel = join(root, "garbled-model");
  await buildTinyEncoder(garbledModel);
  await writeFile(join(garbledModel, "model.onnx"), "this is not protobuf");
  await assert.rejects(OnnxEmbedder.load(garbledModel), isInvalidAt(join(garbledModel, "model.onnx")));
  const garbledTokenizer = join(root, "garbled-tokenizer");
  await buildTinyEncoder(garbledTokenizer);
  const tokenizerPath = join(garbledTokenizer, "tokenizer.json");
  await writeFile(tokenizerPath, "{ not json");
  await assert.rejects(OnnxEmbedder.load(garbledTokenizer), isInvalidAt(tokenizerPath));
  await writeFile(tokenizerPath, JSON.stringify({ model: { type: "NoSuchModel" } }));
  await assert.rejects(OnnxEmbedder.load(garbledTokenizer), isInvalidAt(tokenizerPath));
});

test("onnx embedder - an output that is not [batch, sequence, hidden] is INVALID naming the model", async () => {
  const pooled = join(root, "pooled");
  await buildTinyEncoder(pooled, { pooled: true, outputName: "sentence_embedding" });
  await assert.rejects(OnnxEmbedder.load(pooled), (err) => isInvalidAt(join(pooled, "model.onnx"))(err) && /sentence_embedding/.test((err as Error).message));
});

test("onnx embedder - empty text is INVALID, and a closed embedder is UNAVAILABLE", async () => {
  const e = await OnnxEmbedder.load(dirs.bert);
  await assert.rejects(e.embed(["fine", ""]), (err) => isColmenaError(err, "INVALID") && err.details?.index === 1);
  assert.deepEqual(await e.embed([]), []);
  await e.close();
  await assert.rejects(e.embed(["fine"]), (err) => isColmenaError(err, "UNAVAILABLE"));
});
