/**
 * The contract of one loaded ONNX model as the embedder and the decoder use
 * it: names and metadata of its inputs and outputs, `run`, `release`. Tensors
 * are plain `{type, data, dims}` records, not onnxruntime's class, so they
 * can cross a thread boundary by transfer.
 */

export type TensorArray = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export interface TensorData {
  type: "float32" | "int64" | "int32" | "bool" | "uint8" | "int8";
  data: TensorArray;
  dims: readonly number[];
}

export type Feeds = Record<string, TensorData>;

/** Pool output `output` over the positions whose `mask` feed (int64 [batch, seq]) is 1 (mean-pool.ts). */
export interface MeanPool {
  output: string;
  mask: string;
}

/** What a graph declares of one input or output (a symbolic dimension is its name). */
export type ValueInfo = { name: string; isTensor: true; type: string; shape: ReadonlyArray<number | string> } | { name: string; isTensor: false };

/** Where a model's inference runs: its own worker thread, or the caller's thread (the baseline benchmarks compare against). */
export type InferenceThread = "worker" | "main";

export interface ModelRunner {
  readonly thread: InferenceThread;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
  /**
   * Runs the graph. A worker runner takes the feeds' buffers by transfer:
   * after the call the caller's arrays are detached, so a feed is never
   * reused. Outputs belong to the caller. `meanPool` pools one output over a
   * mask feed where the session runs (mean-pool.ts): it comes back [batch, dim].
   */
  run(feeds: Feeds, fetches?: readonly string[], meanPool?: MeanPool): Promise<Feeds>;
  /** Runs the task the runner was opened with (`RunnerOptions.task`) where the session runs; INVALID when it was opened with none. */
  call(input: unknown): Promise<unknown>;
  release(): Promise<void>;
}

/**
 * Work a model instance does around `run` where its session runs (an
 * embedder's tokenising, length bucketing and packing), so that it stays off
 * the caller's thread as the inference does. `module` is the URL of a module
 * whose `createTask(runner, options)` gives the handler, over a runner on the
 * session's own thread; `options` is plain data.
 */
export interface RunnerTask {
  module: string;
  options: unknown;
}

/** One input to its output, and the buffers in the output that may move to the caller instead of being copied. */
export type TaskHandler = (input: unknown) => Promise<{ value: unknown; transfer: ArrayBuffer[] }>;

/** onnxruntime session options that cross to a worker (plain data). */
export interface RunnerOptions {
  thread: InferenceThread;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  /** Default "all". */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Default ["cpu"]. */
  executionProviders?: Array<"cpu" | { name: "cuda"; deviceId: number }>;
  task?: RunnerTask;
}
