/** Opens a model on the thread its options name. */
import { MainThreadRunner } from "./main-thread-runner.js";
import type { ModelRunner, RunnerOptions } from "./runner.js";
import { WorkerRunner } from "./worker-runner.js";

/** onnxruntime's own message when it refuses the model; callers wrap it in their typed error with the path. */
export function openRunner(modelPath: string, opts: RunnerOptions): Promise<ModelRunner> {
  return opts.thread === "worker" ? WorkerRunner.open(modelPath, opts) : MainThreadRunner.open(modelPath, opts);
}
