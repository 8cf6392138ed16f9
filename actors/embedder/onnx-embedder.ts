/**
 * A sentence-transformers ONNX export run with onnxruntime-node on the CPU,
 * in a worker thread of its own by default. An embed's whole work —
 * tokenising, length bucketing, packing, inference, pooling — is the model's
 * task (embed-task.ts) and runs where its session does; this side checks
 * the texts and hands them over. Float and int8-quantized exports load the
 * same way; the inputs are int64 ids and masks only.
 */
import { availableParallelism } from "node:os";
import { basename, resolve } from "node:path";
import { openRunner, type InferenceThread, type ModelRunner } from "../inference/index.js";
import { ColmenaError, isColmenaError } from "../../runtime/index.js";
import type { EmbedTaskInput, EmbedTaskOptions, EmbedTaskOutput } from "./embed-task.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { invalidFile, readModelDir, type ModelDir } from "./model-dir.js";
import { TokenEncoder } from "./token-encoder.js";
import { positiveInteger, validateText } from "./validate.js";

export interface OnnxEmbedderOptions {
  /** The model file inside the directory (default "model.onnx"; e.g. "model_quantized.onnx"). */
  modelFile?: string;
  /** Model name in the id "onnx:<name>" (default: the directory's name). */
  name?: string;
  /** Overrides the limit the export declares (sentence_bert_config.json, tokenizer.json, tokenizer_config.json; else 512). */
  maxTokens?: number;
  /** Default: one less than the machine's cores (at least 1), so the node's event loop keeps a core. */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  /** Where inference runs (default "worker": off the event loop). */
  thread?: InferenceThread;
  /** Most padded tokens (rows × longest) in one run; a longer batch is cut into runs of similar lengths (default 4096). */
  maxPaddedTokens?: number;
}

const DEFAULT_MAX_PADDED_TOKENS = 4096;
const DEFAULT_MAX_TOKENS = 512;
const EMBED_TASK = new URL("./embed-task.js", import.meta.url).href;

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly maxTokens: number;
  readonly dimension: number;
  readonly #session: ModelRunner;
  /** For countTokens, which a batcher calls synchronously; embeds tokenise where the session runs. */
  readonly #encoder: TokenEncoder;
  #closed = false;

  private constructor(id: string, session: ModelRunner, encoder: TokenEncoder, dimension: number) {
    this.id = id;
    this.#session = session;
    this.#encoder = encoder;
    this.maxTokens = encoder.maxTokens;
    this.dimension = dimension;
  }

  /** Loads an export directory; a missing or malformed file is INVALID with its path in details. */
  static async load(dir: string, opts: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const model = await readModelDir(dir, opts.modelFile);
    const declaredMaxTokens = model.maxTokens ?? DEFAULT_MAX_TOKENS;
    const maxTokens = positiveInteger("maxTokens", opts.maxTokens ?? declaredMaxTokens);
    const encoder = new TokenEncoder(model, maxTokens);
    const session = await createSession(model, { model, maxTokens, maxPaddedTokens: positiveInteger("maxPaddedTokens", opts.maxPaddedTokens ?? DEFAULT_MAX_PADDED_TOKENS) }, opts);
    try {
      // The hidden size, symbolic in many exports, is learnt from one inference on an empty text.
      const { dim } = await embedTask(session, [""]);
      const name = opts.name ?? basename(resolve(dir));
      return new OnnxEmbedder(`onnx:${name}${maxTokens === declaredMaxTokens ? "" : `-t${maxTokens}`}`, session, encoder, dim);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  countTokens(texts: string[]): number[] {
    return texts.map((text, i) => {
      validateText(text, i);
      return this.#encoder.count(text);
    });
  }

  async embed(texts: string[]): Promise<EmbedResult[]> {
    if (this.#closed) throw new ColmenaError("UNAVAILABLE", `embedder ${this.id} is closed`);
    texts.forEach(validateText);
    if (texts.length === 0) return [];
    const { vectors, dim, tokens, truncated } = await embedTask(this.#session, texts);
    return texts.map((_, i) => ({ vector: vectors.slice(i * dim, (i + 1) * dim), truncated: truncated[i]!, tokens: tokens[i]! }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}

const embedTask = (session: ModelRunner, texts: string[]) => session.call({ texts } satisfies EmbedTaskInput) as Promise<EmbedTaskOutput>;

async function createSession(model: ModelDir, task: EmbedTaskOptions, opts: OnnxEmbedderOptions): Promise<ModelRunner> {
  const intraOp = opts.intraOpNumThreads ?? Math.max(1, availableParallelism() - 1);
  try {
    return await openRunner(model.modelPath, {
      thread: opts.thread ?? "worker",
      task: { module: EMBED_TASK, options: task },
      intraOpNumThreads: positiveInteger("intraOpNumThreads", intraOp),
      ...(opts.interOpNumThreads !== undefined && { interOpNumThreads: positiveInteger("interOpNumThreads", opts.interOpNumThreads) }),
    });
  } catch (cause) {
    // The task's own refusal (a signature the embedder cannot feed) is already typed; onnxruntime's is the file's.
    if (isColmenaError(cause)) throw cause;
    throw invalidFile(`${model.modelPath} is not an ONNX model onnxruntime can load: ${(cause as Error).message}`, model.modelPath, cause);
  }
}
