/**
 * Opens an onnxruntime-node session on the requested device, in a worker
 * thread of its own unless `thread` says "main". "cuda:N" asks
 * for the CUDA execution provider pinned to device N (with the CPU provider
 * for the operators CUDA lacks); when that session cannot be created, for
 * example with the CPU-only package, it warns and opens the model on the CPU.
 */
import { availableParallelism } from "node:os";
import { openRunner, type InferenceThread, type ModelRunner, type RunnerOptions } from "../inference/index.js";
import { invalid } from "../../runtime/index.js";
import type { Warn } from "./backend.js";

export type Device = "cpu" | `cuda:${number}`;

export interface SessionOptions {
  device: Device;
  /** Default: one less than the machine's cores (at least 1), so the node's event loop keeps a core. */
  intraOpNumThreads?: number;
  /** Default "worker". */
  thread?: InferenceThread;
  warn: Warn;
}

export interface OpenedSession {
  session: ModelRunner;
  device: Device;
  fellBackToCpu: boolean;
}

export async function openSession(modelPath: string, opts: SessionOptions): Promise<OpenedSession> {
  const cudaId = cudaDeviceId(opts.device);
  const base: RunnerOptions = { thread: opts.thread ?? "worker", intraOpNumThreads: opts.intraOpNumThreads ?? Math.max(1, availableParallelism() - 1) };
  if (cudaId !== undefined) {
    try {
      const session = await openRunner(modelPath, { ...base, executionProviders: [{ name: "cuda", deviceId: cudaId }, "cpu"] });
      return { session, device: opts.device, fellBackToCpu: false };
    } catch (err) {
      opts.warn("llm: CUDA session failed, falling back to CPU", { model: modelPath, device: opts.device, error: (err as Error).message });
    }
  }
  try {
    const session = await openRunner(modelPath, { ...base, executionProviders: ["cpu"] });
    return { session, device: "cpu", fellBackToCpu: cudaId !== undefined };
  } catch (err) {
    throw invalid(`cannot load ONNX model ${modelPath}: ${(err as Error).message}`, { path: modelPath });
  }
}

/** The N of "cuda:N", undefined for "cpu"; anything else is INVALID. */
function cudaDeviceId(device: string): number | undefined {
  if (device === "cpu") return undefined;
  const match = /^cuda:(\d+)$/.exec(device);
  if (match === null) throw invalid(`device must be "cpu" or "cuda:N"`, { device });
  return Number(match[1]);
}
