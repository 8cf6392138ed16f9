/**
 * A sentence-transformers ONNX export run with onnxruntime-node on the CPU,
 * in a worker thread of its own by default: tokenise, sort the batch by
 * length and cut it into runs of similar lengths (each padded only to its own
 * longest text, under a padded-token cap), run, mean-pool the last hidden
 * state over the attention mask, L2-normalise. Float and int8-quantized
 * exports load the same way; the inputs are int64 ids and masks only.
 */
import { availableParallelism } from "node:os";
import { basename, resolve } from "node:path";
import { openRunner, type Feeds, type InferenceThread, type ModelRunner, type ValueInfo } from "../inference/index.js";
import { ColmenaError, isColmenaError, yieldIfSpent } from "../../runtime/index.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { invalidFile, readModelDir } from "./model-dir.js";
import { TokenEncoder, type EncodedText } from "./token-encoder.js";
import { positiveInteger, validateText } from "./validate.js";
import { l2Normalize } from "./vector.js";

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
const PREFERRED_OUTPUT = "last_hidden_state";
const REQUIRED_INPUTS = ["input_ids", "attention_mask"];
const OPTIONAL_INPUTS = ["token_type_ids"];

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly maxTokens: number;
  readonly #session: ModelRunner;
  readonly #maxPaddedTokens: number;
  readonly #encoder: TokenEncoder;
  readonly #output: string;
  readonly #modelPath: string;
  readonly #withTokenTypes: boolean;
  #dimension = 0;
  #closed = false;

  private constructor(id: string, session: ModelRunner, encoder: TokenEncoder, output: string, modelPath: string, maxPaddedTokens: number) {
    this.id = id;
    this.#maxPaddedTokens = maxPaddedTokens;
    this.#session = session;
    this.#encoder = encoder;
    this.#output = output;
    this.#modelPath = modelPath;
    this.#withTokenTypes = session.inputNames.includes("token_type_ids");
    this.maxTokens = encoder.maxTokens;
  }

  get dimension(): number {
    return this.#dimension;
  }

  /** Loads an export directory; a missing or malformed file is INVALID with its path in details. */
  static async load(dir: string, opts: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const model = await readModelDir(dir, opts.modelFile);
    const declaredMaxTokens = model.maxTokens ?? DEFAULT_MAX_TOKENS;
    const maxTokens = positiveInteger("maxTokens", opts.maxTokens ?? declaredMaxTokens);
    const encoder = new TokenEncoder(model, maxTokens);
    const session = await createSession(model.modelPath, opts);
    try {
      const output = checkSignature(session, model.modelPath);
      const name = opts.name ?? basename(resolve(dir));
      const id = `onnx:${name}${maxTokens === declaredMaxTokens ? "" : `-t${maxTokens}`}`;
      const embedder = new OnnxEmbedder(id, session, encoder, output, model.modelPath, positiveInteger("maxPaddedTokens", opts.maxPaddedTokens ?? DEFAULT_MAX_PADDED_TOKENS));
      // A symbolic hidden size is learnt from one inference on an empty text.
      embedder.#dimension = declaredDimension(session, output) ?? (await embedder.#run([encoder.encode("")])).dim;
      return embedder;
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
    const encoded: EncodedText[] = [];
    for (const text of texts) {
      encoded.push(this.#encoder.encode(text));
      // Tokenising a batch is the longest stretch of JS an embed runs on the actor's thread: its other actors (and its
      // sockets) get their turn between texts once the thread's slice is spent.
      await yieldIfSpent();
    }
    const results: EmbedResult[] = new Array(texts.length);
    // Every run is sent at once: the worker queues them, so packing the next overlaps the inference of the one before.
    await Promise.all(
      lengthBuckets(encoded, this.#maxPaddedTokens).map(async (rows) => {
        const { pooled, dim } = await this.#run(rows.map((i) => encoded[i]!));
        rows.forEach((i, row) => {
          const e = encoded[i]!;
          results[i] = { vector: l2Normalize(pooled.slice(row * dim, (row + 1) * dim)), truncated: e.truncated, tokens: e.ids.length };
        });
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }

  async #run(encoded: EncodedText[]) {
    const batch = encoded.length;
    const seq = Math.max(...encoded.map((e) => e.ids.length));
    const ids = new BigInt64Array(batch * seq).fill(BigInt(this.#encoder.padId));
    const mask = new BigInt64Array(batch * seq);
    encoded.forEach((e, row) => {
      e.ids.forEach((id, t) => {
        ids[row * seq + t] = BigInt(id);
        mask[row * seq + t] = 1n;
      });
    });
    const feeds: Feeds = {
      input_ids: { type: "int64", data: ids, dims: [batch, seq] },
      attention_mask: { type: "int64", data: mask, dims: [batch, seq] },
    };
    // One text per row, so every token belongs to the first segment.
    if (this.#withTokenTypes) feeds.token_type_ids = { type: "int64", data: new BigInt64Array(batch * seq), dims: [batch, seq] };
    // Pooled where the session runs: only [batch, hidden] comes back to this thread, not every token's state.
    let out;
    try {
      out = (await this.#session.run(feeds, [this.#output], { output: this.#output, mask: "attention_mask" }))[this.#output];
    } catch (err) {
      // The worker gone is UNAVAILABLE as it came; onnxruntime refusing the graph, or an output that cannot be pooled, is the file's fault.
      if (isColmenaError(err)) throw err;
      throw invalidFile(`${this.#modelPath}: ${(err as Error).message}`, this.#modelPath);
    }
    const [b, dim] = out?.dims ?? [];
    if (!(out?.data instanceof Float32Array) || out.dims.length !== 2 || b !== batch || dim === undefined) {
      throw invalidFile(`output ${this.#output} of ${this.#modelPath} must be float32 [batch, sequence, hidden], got ${out?.type} [${out?.dims.join(", ")}]`, this.#modelPath);
    }
    return { pooled: out.data, dim };
  }
}

/**
 * Row indices sorted by length and cut into runs of similar lengths: a run
 * ends before the row that would make its padded size (rows × the run's
 * longest) exceed the cap, or its padding exceed a tenth of its real tokens.
 * The model's cost grows with padded tokens, so short texts are never padded
 * to a long one's length; the runs of a batch are sent together, so more
 * runs cost little. A text longer than the cap runs alone.
 */
export function lengthBuckets(encoded: readonly EncodedText[], maxPaddedTokens: number): number[][] {
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length);
  const runs: number[][] = [];
  let run: number[] = [];
  let real = 0;
  for (const i of order) {
    // Sorted ascending, so the newest row is the run's longest.
    const length = encoded[i]!.ids.length;
    const padded = (run.length + 1) * length;
    if (run.length > 0 && (padded > maxPaddedTokens || padded > (1 + MAX_PADDING_FRACTION) * (real + length))) {
      runs.push(run);
      run = [];
      real = 0;
    }
    run.push(i);
    real += length;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const MAX_PADDING_FRACTION = 0.1;

async function createSession(modelPath: string, opts: OnnxEmbedderOptions): Promise<ModelRunner> {
  const intraOp = opts.intraOpNumThreads ?? Math.max(1, availableParallelism() - 1);
  try {
    return await openRunner(modelPath, {
      thread: opts.thread ?? "worker",
      intraOpNumThreads: positiveInteger("intraOpNumThreads", intraOp),
      ...(opts.interOpNumThreads !== undefined && { interOpNumThreads: positiveInteger("interOpNumThreads", opts.interOpNumThreads) }),
    });
  } catch (cause) {
    throw invalidFile(`${modelPath} is not an ONNX model onnxruntime can load: ${(cause as Error).message}`, modelPath, cause);
  }
}

/** Checks the inputs the embedder can feed and picks the output to pool. */
function checkSignature(session: ModelRunner, modelPath: string): string {
  const missing = REQUIRED_INPUTS.filter((name) => !session.inputNames.includes(name));
  const unknown = session.inputNames.filter((name) => !REQUIRED_INPUTS.includes(name) && !OPTIONAL_INPUTS.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw invalidFile(`${modelPath} has inputs [${session.inputNames.join(", ")}]; an embedder feeds input_ids, attention_mask and optionally token_type_ids`, modelPath);
  }
  const output = session.outputNames.includes(PREFERRED_OUTPUT) ? PREFERRED_OUTPUT : session.outputNames[0];
  if (output === undefined) throw invalidFile(`${modelPath} has no outputs`, modelPath);
  const meta = outputMetadata(session, output);
  if (meta !== undefined && ((meta.shape.length > 0 && meta.shape.length !== 3) || meta.type !== "float32")) {
    throw invalidFile(`output ${output} of ${modelPath} must be float32 [batch, sequence, hidden], got ${meta.type} [${meta.shape.join(", ")}]`, modelPath);
  }
  return output;
}

/** The hidden size when the model states it as a number; undefined when it is symbolic or unknown. */
function declaredDimension(session: ModelRunner, output: string): number | undefined {
  const hidden = outputMetadata(session, output)?.shape[2];
  return typeof hidden === "number" && hidden > 0 ? hidden : undefined;
}

function outputMetadata(session: ModelRunner, output: string): Extract<ValueInfo, { isTensor: true }> | undefined {
  const meta = session.outputMetadata.find((m) => m.name === output);
  return meta?.isTensor ? meta : undefined;
}
