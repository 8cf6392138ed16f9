/**
 * The worker thread that owns one onnxruntime session: it opens the model
 * named in workerData (and its task, if it has one), then serves runs and
 * calls as they arrive. Outputs go back by transfer; onnxruntime-node gives
 * each output its own buffer, so nothing else shares what is moved.
 */
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { isColmenaError } from "../../runtime/index.js";
import { MainThreadRunner } from "./main-thread-runner.js";
import { transferList, type FromWorker, type ToWorker, type WorkerInit } from "./worker-protocol.js";

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
/** The message and, for a ColmenaError, its code and details, so the caller's thread raises the same error. */
const failure = (err: unknown) => ({ message: (err as Error).message, ...(isColmenaError(err) && { error: err.toWire() }) });

/**
 * The nice value of inference threads: on Linux a thread's nice value is its
 * own and the threads it starts inherit it (onnxruntime's intra-op pool,
 * made when the session is), so saturated inference yields the cores to the
 * event loop's thread, whose delays are every actor's (heartbeats, leases,
 * replies), and still takes every cycle that thread leaves.
 */
const INFERENCE_NICE = 10;

lowerThreadPriority(INFERENCE_NICE);

let runner: MainThreadRunner;
try {
  runner = await MainThreadRunner.open(init.modelPath, init.options);
  post({
    type: "ready",
    inputNames: [...runner.inputNames],
    outputNames: [...runner.outputNames],
    inputMetadata: [...runner.inputMetadata],
    outputMetadata: [...runner.outputMetadata],
  });
  port.on("message", (msg: ToWorker) => void handle(msg));
} catch (err) {
  post({ type: "load-failed", ...failure(err) });
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === "release") {
    await runner.release();
    post({ type: "released" });
    port.close();
    return;
  }
  try {
    if (msg.type === "call") {
      const { value, transfer } = await runner.callWithTransfer(msg.input);
      post({ type: "called", id: msg.id, value }, transfer);
    } else {
      const outputs = await runner.run(msg.feeds, msg.fetches, msg.pool);
      post({ type: "result", id: msg.id, outputs }, transferList(outputs));
    }
  } catch (err) {
    post({ type: "run-failed", id: msg.id, ...failure(err) });
  }
}

/** This thread's own priority (its id from /proc/thread-self); elsewhere than Linux, or where it is refused, the process's priority stays. */
function lowerThreadPriority(nice: number): void {
  try {
    setPriority(Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]), nice);
  } catch {
    // Not Linux, or not allowed: inference runs at the process's priority.
  }
}
