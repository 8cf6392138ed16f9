import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openRunner, type Feeds } from "../../actors/inference/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import type { HiddenSumOutput } from "../fixtures/inference/hidden-sum-task.js";

let root: string;
let modelPath: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "colmena-runner-"));
  await buildTinyEncoder(join(root, "encoder"), { hidden: 16 });
  modelPath = join(root, "encoder", "model.onnx");
});

after(() => rm(root, { recursive: true, force: true }));

const feeds = (): Feeds => ({
  input_ids: { type: "int64", data: BigInt64Array.from([2n, 7n, 9n, 3n]), dims: [1, 4] },
  attention_mask: { type: "int64", data: BigInt64Array.from([1n, 1n, 1n, 1n]), dims: [1, 4] },
  token_type_ids: { type: "int64", data: new BigInt64Array(4), dims: [1, 4] },
});

test("inference runner - a model in a worker thread answers what it answers on the main thread", async () => {
  const worker = await openRunner(modelPath, { thread: "worker" });
  const main = await openRunner(modelPath, { thread: "main" });
  try {
    assert.deepEqual(worker.inputNames, main.inputNames);
    assert.deepEqual(worker.outputMetadata, main.outputMetadata);
    const a = (await worker.run(feeds()))["last_hidden_state"]!;
    const b = (await main.run(feeds()))["last_hidden_state"]!;
    assert.deepEqual(a.dims, [1, 4, 16]);
    assert.deepEqual(Array.from(a.data as Float32Array), Array.from(b.data as Float32Array));
  } finally {
    await worker.release();
    await main.release();
  }
});

/** This process's threads by nice value (field 19 of /proc/self/task/<tid>/stat, counted after the command's closing parenthesis). */
function threadsByNice(): Map<number, number> {
  const counts = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    const nice = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    counts.set(nice, (counts.get(nice) ?? 0) + 1);
  }
  return counts;
}

test("inference runner - the worker and the onnxruntime threads it starts run below the event loop's priority", { skip: process.platform !== "linux" && "thread priorities are read from /proc" }, async () => {
  const before = threadsByNice().get(10) ?? 0;
  const runner = await openRunner(modelPath, { thread: "worker", intraOpNumThreads: 2 });
  try {
    await runner.run(feeds());
    const lowered = (threadsByNice().get(10) ?? 0) - before;
    assert.ok(lowered >= 2, `the worker thread and its intra-op thread at nice 10: ${lowered} threads (${JSON.stringify([...threadsByNice()])})`);
    assert.ok((threadsByNice().get(0) ?? 0) >= 1, "the event loop's thread keeps its priority");
  } finally {
    await runner.release();
  }
});

test("inference runner - feeds move to the worker by transfer, and outputs come back the same way", async () => {
  const runner = await openRunner(modelPath, { thread: "worker" });
  try {
    const sent = feeds();
    const out = await runner.run(sent, ["last_hidden_state"]);
    // A transferred buffer is detached on the sender's side: nothing was copied.
    assert.equal(sent.input_ids!.data.byteLength, 0);
    assert.equal(sent.attention_mask!.data.byteLength, 0);
    const hidden = out["last_hidden_state"]!.data;
    assert.equal(hidden.byteOffset, 0);
    assert.equal(hidden.buffer.byteLength, hidden.byteLength, "each output owns its buffer");
    // Runs sent together come back in order, each with its own result.
    const many = await Promise.all([1, 2, 3].map(() => runner.run(feeds())));
    assert.equal(many.length, 3);
  } finally {
    await runner.release();
  }
});

test("inference runner - a model onnxruntime refuses fails to open, and a released runner is UNAVAILABLE", async () => {
  const garbled = join(root, "garbled.onnx");
  await writeFile(garbled, "not a model");
  await assert.rejects(openRunner(garbled, { thread: "worker" }), (err: Error) => !isColmenaError(err) && err.message.length > 0);
  const runner = await openRunner(modelPath, { thread: "worker" });
  await runner.release();
  await assert.rejects(runner.run(feeds()), (err) => isColmenaError(err, "UNAVAILABLE"));
});

const hiddenSum = { module: new URL("../fixtures/inference/hidden-sum-task.js", import.meta.url).href, options: { output: "last_hidden_state" } };

test("inference runner - a runner's task runs where its session does, answers alike on either thread, and its typed errors cross with their code and details", async () => {
  const worker = await openRunner(modelPath, { thread: "worker", task: hiddenSum });
  const main = await openRunner(modelPath, { thread: "main", task: hiddenSum });
  try {
    const a = (await worker.call({ ids: [2, 7, 9, 3] })) as HiddenSumOutput;
    const b = (await main.call({ ids: [2, 7, 9, 3] })) as HiddenSumOutput;
    assert.equal(a.mainThread, false, "the worker's task ran in the worker");
    assert.equal(b.mainThread, true);
    assert.equal(a.sum, b.sum);
    assert.ok(a.hidden instanceof Float32Array && a.hidden.length === 4 * 16, "the output's buffer came back whole");
    for (const runner of [worker, main]) {
      await assert.rejects(runner.call({ ids: [] }), (err) => isColmenaError(err, "INVALID") && /no ids/.test(err.message) && Array.isArray(err.details?.ids));
    }
    assert.ok(((await worker.call({ ids: [5] })) as HiddenSumOutput).hidden.length === 16, "a failed call leaves the runner serving");
  } finally {
    await worker.release();
    await main.release();
  }
});

test("inference runner - a call on a runner opened without a task is INVALID, and a task module without createTask fails the open", async () => {
  const plain = await openRunner(modelPath, { thread: "worker" });
  try {
    await assert.rejects(plain.call({ ids: [1] }), (err) => isColmenaError(err, "INVALID"));
  } finally {
    await plain.release();
  }
  const notATask = { module: new URL("../fixtures/encoder/build-encoder.js", import.meta.url).href, options: {} };
  for (const thread of ["worker", "main"] as const) {
    await assert.rejects(openRunner(modelPath, { thread, task: notATask }), (err) => isColmenaError(err, "INVALID") && /createTask/.test(err.message));
  }
});
