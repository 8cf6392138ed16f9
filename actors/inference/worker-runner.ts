/**
 * A model whose onnxruntime session lives in a worker thread of its own, so
 * an inference never blocks the event loop of the actors on the node. Feeds
 * go to the worker and outputs come back by transfer (the buffers move, they
 * are not copied). Requests run in the order sent, one at a time; the
 * caller keeps admission, batching and cancellation on its own thread.
 */
import { Worker } from "node:worker_threads";
import { ColmenaError, type WireError } from "../../runtime/index.js";
import type { Feeds, MeanPool, ModelRunner, RunnerOptions, ValueInfo } from "./runner.js";
import { transferList, type FromWorker, type ToWorker, type WorkerInit } from "./worker-protocol.js";

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

type Ready = Extract<FromWorker, { type: "ready" }>;

export class WorkerRunner implements ModelRunner {
  readonly thread = "worker" as const;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #gone: Error | undefined;
  #released: Promise<void> | undefined;
  #onReleased: (() => void) | undefined;

  private constructor(worker: Worker, ready: Ready) {
    this.#worker = worker;
    this.inputNames = ready.inputNames;
    this.outputNames = ready.outputNames;
    this.inputMetadata = ready.inputMetadata;
    this.outputMetadata = ready.outputMetadata;
    // An idle worker does not keep the process alive; one with runs in flight does.
    worker.unref();
    worker.on("message", (msg: FromWorker) => this.#onMessage(msg));
    worker.on("error", (err) => this.#fail(err));
    worker.on("exit", (code) => {
      this.#onReleased?.();
      this.#fail(new ColmenaError("UNAVAILABLE", `the inference worker exited (code ${code})`));
    });
  }

  /** Starts the worker and loads the model there; a model onnxruntime refuses rejects with its message. */
  static open(modelPath: string, opts: RunnerOptions): Promise<WorkerRunner> {
    const { thread: _thread, ...options } = opts;
    const init: WorkerInit = { modelPath, options };
    const worker = new Worker(new URL("./session-worker.js", import.meta.url), { workerData: init });
    return new Promise((resolve, reject) => {
      const detach = () => {
        worker.off("error", fail);
        worker.off("exit", exited);
        worker.off("message", first);
      };
      function fail(err: Error) {
        detach();
        void worker.terminate();
        reject(err);
      }
      const exited = (code: number) => fail(new Error(`the inference worker exited (code ${code}) before loading ${modelPath}`));
      const first = (msg: FromWorker) => {
        if (msg.type === "load-failed") return fail(raised(msg));
        if (msg.type !== "ready") return fail(new Error(`unexpected ${msg.type} from the inference worker`));
        // The runner's own listeners go on before these come off, so the port never goes without one.
        const runner = new WorkerRunner(worker, msg);
        detach();
        resolve(runner);
      };
      worker.on("error", fail);
      worker.on("exit", exited);
      worker.on("message", first);
    });
  }

  run(feeds: Feeds, fetches?: readonly string[], meanPool?: MeanPool): Promise<Feeds> {
    return this.#send<Feeds>((id) => ({ type: "run", id, feeds, ...(fetches !== undefined && { fetches }), ...(meanPool !== undefined && { pool: meanPool }) }), transferList(feeds));
  }

  call(input: unknown): Promise<unknown> {
    return this.#send((id) => ({ type: "call", id, input }), []);
  }

  #send<T>(msg: (id: number) => ToWorker, transfer: ArrayBuffer[]): Promise<T> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    if (this.#released !== undefined) return Promise.reject(new ColmenaError("UNAVAILABLE", "the model is released"));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.#worker.postMessage(msg(id), transfer);
    });
  }

  /** Runs already sent finish first; the worker then frees the session and ends. */
  release(): Promise<void> {
    if (this.#released !== undefined) return this.#released;
    this.#released = new Promise<void>((resolve) => {
      this.#onReleased = resolve;
      if (this.#gone !== undefined) return resolve();
      this.#worker.ref();
      this.#worker.postMessage({ type: "release" } satisfies ToWorker);
    });
    return this.#released;
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type === "result" || msg.type === "called" || msg.type === "run-failed") {
      const pending = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (msg.type === "run-failed") pending?.reject(raised(msg));
      else pending?.resolve((msg.type === "result" ? msg.outputs : msg.value) as never);
    } else if (msg.type === "released") {
      void this.#worker.terminate();
    }
  }

  #fail(err: Error): void {
    this.#gone ??= err;
    for (const p of this.#pending.values()) p.reject(this.#gone);
    this.#pending.clear();
  }
}

/** The error a failure in the worker raises here: the same ColmenaError when it was one, else onnxruntime's message. */
function raised(msg: { message: string; error?: WireError }): Error {
  return msg.error === undefined ? new Error(msg.message) : ColmenaError.fromWire(msg.error);
}
