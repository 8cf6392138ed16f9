/**
 * A model run on the calling thread: onnxruntime-node's `run` blocks that
 * thread's event loop for the whole inference. The session worker runs its
 * model through one of these; on the event loop's own thread it is the
 * baseline the inference benchmark measures the worker runner against.
 */
import * as ort from "onnxruntime-node";
import { fromOrtOutputs, sessionOptions, toOrtFeeds, valueInfos } from "./ort-convert.js";
import { poolOutputs } from "./mean-pool.js";
import type { Feeds, MeanPool, ModelRunner, RunnerOptions, TaskHandler, ValueInfo } from "./runner.js";
import { loadTask, noTask } from "./task.js";

export class MainThreadRunner implements ModelRunner {
  readonly thread = "main" as const;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
  readonly #session: ort.InferenceSession;
  #task: TaskHandler | undefined;

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.inputMetadata = valueInfos(session.inputMetadata);
    this.outputMetadata = valueInfos(session.outputMetadata);
  }

  static async open(modelPath: string, opts: Omit<RunnerOptions, "thread">): Promise<MainThreadRunner> {
    const runner = new MainThreadRunner(await ort.InferenceSession.create(modelPath, sessionOptions(opts)));
    if (opts.task !== undefined) {
      try {
        runner.#task = await loadTask(runner, opts.task);
      } catch (err) {
        await runner.release();
        throw err;
      }
    }
    return runner;
  }

  async run(feeds: Feeds, fetches?: readonly string[], meanPool?: MeanPool): Promise<Feeds> {
    const ortFeeds = toOrtFeeds(feeds);
    const outputs = fromOrtOutputs(fetches === undefined ? await this.#session.run(ortFeeds) : await this.#session.run(ortFeeds, [...fetches]));
    return meanPool === undefined ? outputs : poolOutputs(outputs, feeds, meanPool);
  }

  async call(input: unknown): Promise<unknown> {
    return (await this.callWithTransfer(input)).value;
  }

  /** `call`, with the output's buffers that may move: what the session worker hands its caller. */
  callWithTransfer(input: unknown): ReturnType<TaskHandler> {
    if (this.#task === undefined) return Promise.reject(noTask());
    return this.#task(input);
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}
