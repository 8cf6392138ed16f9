/**
 * The worker thread that owns one onnxruntime session: it loads the model
 * named in workerData, then runs one request at a time as they arrive. Its
 * outputs go back by transfer; onnxruntime-node gives each output its own
 * buffer, so nothing else shares what is moved.
 */
import { readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { poolOutputs } from "./mean-pool.js";
import { fromOrtOutputs, sessionOptions, toOrtFeeds, valueInfos } from "./ort-convert.js";
import { transferList, type FromWorker, type ToWorker, type WorkerInit } from "./worker-protocol.js";

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/**
 * The nice value of inference threads: on Linux a thread's nice value is its
 * own and the threads it starts inherit it (onnxruntime's intra-op pool,
 * made when the session is), so saturated inference yields the cores to the
 * event loop's thread, whose delays are every actor's (heartbeats, leases,
 * replies), and still takes every cycle that thread leaves.
 */
const INFERENCE_NICE = 10;

lowerThreadPriority(INFERENCE_NICE);

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(init.modelPath, sessionOptions(init.options));
  post({
    type: "ready",
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: valueInfos(session.inputMetadata),
    outputMetadata: valueInfos(session.outputMetadata),
  });
  port.on("message", (msg: ToWorker) => void handle(msg));
} catch (err) {
  post({ type: "load-failed", message: (err as Error).message });
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === "release") {
    await session.release();
    post({ type: "released" });
    port.close();
    return;
  }
  try {
    const feeds = toOrtFeeds(msg.feeds);
    const raw = fromOrtOutputs(msg.fetches === undefined ? await session.run(feeds) : await session.run(feeds, [...msg.fetches]));
    const outputs = msg.pool === undefined ? raw : poolOutputs(raw, msg.feeds, msg.pool);
    post({ type: "result", id: msg.id, outputs }, transferList(outputs));
  } catch (err) {
    post({ type: "run-failed", id: msg.id, message: (err as Error).message });
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
