/** The messages between a WorkerRunner and its session worker (types and the transfer list). */
import type { WireError } from "../../runtime/index.js";
import type { Feeds, MeanPool, RunnerOptions, ValueInfo } from "./runner.js";

export interface WorkerInit {
  modelPath: string;
  options: Omit<RunnerOptions, "thread">;
}

export type ToWorker =
  | { type: "run"; id: number; feeds: Feeds; fetches?: readonly string[]; pool?: MeanPool }
  | { type: "call"; id: number; input: unknown }
  | { type: "release" };

export type FromWorker =
  | { type: "ready"; inputNames: string[]; outputNames: string[]; inputMetadata: ValueInfo[]; outputMetadata: ValueInfo[] }
  | { type: "load-failed"; message: string; error?: WireError }
  | { type: "result"; id: number; outputs: Feeds }
  | { type: "called"; id: number; value: unknown }
  /** `error` when what failed was a ColmenaError: its code and details cross with it. */
  | { type: "run-failed"; id: number; message: string; error?: WireError }
  | { type: "released" };

/** Every distinct, non-empty buffer under the tensors: what a postMessage moves instead of copying. */
export function transferList(tensors: Feeds): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    const buffer = t.data.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) buffers.add(buffer);
  }
  return [...buffers];
}
