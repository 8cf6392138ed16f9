/** Between the plain tensor records of runner.ts and onnxruntime's Tensor and metadata. */
import * as ort from "onnxruntime-node";
import type { Feeds, TensorData, ValueInfo } from "./runner.js";

export function toOrtFeeds(feeds: Feeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  return out;
}

export function fromOrtOutputs(outputs: ort.InferenceSession.ReturnType): Feeds {
  const out: Feeds = {};
  for (const [name, t] of Object.entries(outputs)) out[name] = { type: t.type as TensorData["type"], data: t.data as TensorData["data"], dims: [...t.dims] };
  return out;
}

export function valueInfos(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

export function sessionOptions(opts: {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  executionProviders?: Array<"cpu" | { name: "cuda"; deviceId: number }>;
}): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: opts.graphOptimizationLevel ?? "all" };
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  if (opts.interOpNumThreads !== undefined) options.interOpNumThreads = opts.interOpNumThreads;
  if (opts.executionProviders !== undefined) options.executionProviders = opts.executionProviders;
  return options;
}
