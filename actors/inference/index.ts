/** Where ONNX inference runs: a model's session in a worker thread of its own (or on the caller's thread, the benchmarks' baseline). */
export { openRunner } from "./open-runner.js";
export type { Feeds, InferenceThread, MeanPool, ModelRunner, RunnerOptions, RunnerTask, TaskHandler, TensorArray, TensorData, ValueInfo } from "./runner.js";
export { ModelRegistry } from "./model-registry.js";
export type { ModelInfo, ModelLease, ModelRegistryOptions, ModelSpec, ModelState } from "./model-registry.js";
