/**
 * A model run on the caller's thread: onnxruntime-node's `run` blocks the
 * event loop for the whole inference. Kept as the baseline the inference
 * benchmark measures the worker runner against.
 */
import * as ort from "onnxruntime-node";
import { fromOrtOutputs, sessionOptions, toOrtFeeds, valueInfos } from "./ort-convert.js";
import { poolOutputs } from "./mean-pool.js";
import type { Feeds, MeanPool, ModelRunner, RunnerOptions, ValueInfo } from "./runner.js";

export class MainThreadRunner implements ModelRunner {
  readonly thread = "main" as const;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
  readonly #session: ort.InferenceSession;

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.inputMetadata = valueInfos(session.inputMetadata);
    this.outputMetadata = valueInfos(session.outputMetadata);
  }

  static async open(modelPath: string, opts: RunnerOptions): Promise<MainThreadRunner> {
    return new MainThreadRunner(await ort.InferenceSession.create(modelPath, sessionOptions(opts)));
  }

  async run(feeds: Feeds, fetches?: readonly string[], meanPool?: MeanPool): Promise<Feeds> {
    const ortFeeds = toOrtFeeds(feeds);
    const outputs = fromOrtOutputs(fetches === undefined ? await this.#session.run(ortFeeds) : await this.#session.run(ortFeeds, [...fetches]));
    return meanPool === undefined ? outputs : poolOutputs(outputs, feeds, meanPool);
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}
