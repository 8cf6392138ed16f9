/** The messages between a WorkerRunner and its session worker (types and the transfer list). */
import type { Feeds, MeanPool, RunnerOptions, ValueInfo } from "./runner.js";

export interface WorkerInit {
  modelPath: string;
  options: Omit<RunnerOptions, "thread">;
}

export type ToWorker = { type: "run"; id: number; feeds: Feeds; fetches?: readonly string[]; pool?: MeanPool } | { type: "release" };

export type FromWorker =
  | { type: "ready"; inputNames: string[]; outputNames: string[]; inputMetadata: ValueInfo[]; outputMetadata: ValueInfo[] }
  | { type: "load-failed"; message: string }
  | { type: "result"; id: number; outputs: Feeds }
  | { type: "run-failed"; id: number; message: string }
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
