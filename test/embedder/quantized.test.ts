import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import onnxProto from "onnx-proto";
import { OnnxEmbedder } from "../../actors/embedder/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { quantizeModel, type QuantizeReport } from "../fixtures/quantize.js";

// The stated tolerance: every int8 vector points the same way as the float one to within a cosine of 0.99.
const MIN_COSINE = 0.99;

let root: string;
let report: QuantizeReport;
const float = () => join(root, "float");
const int8 = () => join(root, "int8");

before(async () => {
  root = await mkdtemp(join(tmpdir(), "colmena-quantized-"));
  await buildTinyEncoder(float(), { hidden: 64, maxPositions: 64 });
  report = await quantizeModel(float(), int8());
});

after(() => rm(root, { recursive: true, force: true }));

const TEXTS = ["the stream keeps messages", "a consumer reads them back with acknowledgements", "Coffee!", "leaf nodes join a cluster through gateways"];

test("quantized encoder - the int8 graph holds integer matmuls and int8 weights, and is smaller", async () => {
  const model = onnxProto.onnx.ModelProto.decode(await readFile(join(int8(), "model.onnx")));
  const ops = new Set(model.graph!.node!.map((n) => n.opType));
  assert.ok(ops.has("MatMulInteger") && ops.has("DynamicQuantizeLinear") && ops.has("DequantizeLinear"), [...ops].join(", "));
  assert.ok(!ops.has("MatMul"), "every weight matmul is integer");
  assert.ok(report.matmuls >= 2 && report.tables >= 2);
  const size = async (d: string) => (await stat(join(d, "model.onnx"))).size;
  assert.ok((await size(int8())) < (await size(float())) / 2, "int8 weights take a quarter of the float bytes");
});

test("quantized encoder - loads like the float export and stays within the stated tolerance", async () => {
  const f = await OnnxEmbedder.load(float());
  const q = await OnnxEmbedder.load(int8());
  try {
    assert.equal(q.dimension, f.dimension);
    const a = await f.embed(TEXTS);
    const b = await q.embed(TEXTS);
    a.forEach((r, i) => {
      const cosine = r.vector.reduce((s, x, j) => s + x * b[i]!.vector[j]!, 0);
      assert.ok(cosine >= MIN_COSINE, `text ${i}: cosine ${cosine}`);
      assert.ok(cosine < 1 - 1e-9 || r.vector.some((x, j) => x !== b[i]!.vector[j]), "the int8 model computes something of its own");
    });
    // Different texts stay apart under quantization.
    assert.ok(b[0]!.vector.reduce((s, x, j) => s + x * b[1]!.vector[j]!, 0) < 0.999);
  } finally {
    await f.close();
    await q.close();
  }
});
