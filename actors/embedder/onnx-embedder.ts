/**
 * A sentence-transformers ONNX export run with onnxruntime-node on the CPU:
 * tokenise, pad the batch to its longest text, run, mean-pool the last hidden
 * state over the attention mask, L2-normalise. Float and int8-quantized
 * exports load the same way; the inputs are int64 ids and masks only.
 */
import { basename, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { ColmenaError } from "../../runtime/index.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { invalidFile, readModelDir } from "./model-dir.js";
import { TokenEncoder } from "./token-encoder.js";
import { positiveInteger, validateText } from "./validate.js";
import { l2Normalize, meanPool } from "./vector.js";

export interface OnnxEmbedderOptions {
  /** The model file inside the directory (default "model.onnx"; e.g. "model_quantized.onnx"). */
  modelFile?: string;
  /** Model name in the id "onnx:<name>" (default: the directory's name). */
  name?: string;
  /** Overrides the limit the export declares (sentence_bert_config.json, tokenizer.json, tokenizer_config.json; else 512). */
  maxTokens?: number;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

const DEFAULT_MAX_TOKENS = 512;
const PREFERRED_OUTPUT = "last_hidden_state";
const REQUIRED_INPUTS = ["input_ids", "attention_mask"];
const OPTIONAL_INPUTS = ["token_type_ids"];

export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly maxTokens: number;
  readonly #session: ort.InferenceSession;
  readonly #encoder: TokenEncoder;
  readonly #output: string;
  readonly #modelPath: string;
  readonly #withTokenTypes: boolean;
  #dimension = 0;
  #closed = false;

  private constructor(id: string, session: ort.InferenceSession, encoder: TokenEncoder, output: string, modelPath: string) {
    this.id = id;
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
      const embedder = new OnnxEmbedder(id, session, encoder, output, model.modelPath);
      // A symbolic hidden size is learnt from one inference on an empty text.
      embedder.#dimension = declaredDimension(session, output) ?? (await embedder.#run([""])).dim;
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
    const { hidden, mask, seq, dim, encoded } = await this.#run(texts);
    return encoded.map((e, row) => ({ vector: l2Normalize(meanPool(hidden, mask, row, seq, dim)), truncated: e.truncated, tokens: e.ids.length }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }

  async #run(texts: string[]) {
    const encoded = texts.map((t) => this.#encoder.encode(t));
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
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [batch, seq]),
      attention_mask: new ort.Tensor("int64", mask, [batch, seq]),
    };
    // One text per row, so every token belongs to the first segment.
    if (this.#withTokenTypes) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(batch * seq), [batch, seq]);
    const out = (await this.#session.run(feeds, [this.#output]))[this.#output];
    const [b, s, dim] = out?.dims ?? [];
    if (!(out?.data instanceof Float32Array) || out.dims.length !== 3 || b !== batch || s !== seq || dim === undefined) {
      throw invalidFile(`output ${this.#output} of ${this.#modelPath} must be float32 [batch, sequence, hidden], got ${out?.type} [${out?.dims.join(", ")}]`, this.#modelPath);
    }
    return { hidden: out.data, mask, seq, dim, encoded };
  }
}

async function createSession(modelPath: string, opts: OnnxEmbedderOptions): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all" };
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = positiveInteger("intraOpNumThreads", opts.intraOpNumThreads);
  if (opts.interOpNumThreads !== undefined) options.interOpNumThreads = positiveInteger("interOpNumThreads", opts.interOpNumThreads);
  try {
    return await ort.InferenceSession.create(modelPath, options);
  } catch (cause) {
    throw invalidFile(`${modelPath} is not an ONNX model onnxruntime can load: ${(cause as Error).message}`, modelPath, cause);
  }
}

/** Checks the inputs the embedder can feed and picks the output to pool. */
function checkSignature(session: ort.InferenceSession, modelPath: string): string {
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
function declaredDimension(session: ort.InferenceSession, output: string): number | undefined {
  const hidden = outputMetadata(session, output)?.shape[2];
  return typeof hidden === "number" && hidden > 0 ? hidden : undefined;
}

function outputMetadata(session: ort.InferenceSession, output: string): ort.InferenceSession.TensorValueMetadata | undefined {
  const meta = session.outputMetadata.find((m) => m.name === output);
  return meta?.isTensor ? meta : undefined;
}
