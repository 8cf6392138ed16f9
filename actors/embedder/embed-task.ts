/**
 * The work of one `embed` where the model's session runs (its worker thread
 * by default): tokenise, sort the batch by length and cut it into runs of
 * similar lengths (each padded only to its own longest text, under a
 * padded-token cap), run, mean-pool the last hidden state over the attention
 * mask, L2-normalise. On the session's thread, so that tokenising a batch —
 * the longest stretch of JS an embed has — never delays the event loop of
 * the actors that asked for it.
 */
import type { ModelRunner, TaskHandler, ValueInfo } from "../inference/index.js";
import { invalidFile, type ModelDir } from "./model-dir.js";
import { TokenEncoder, type EncodedText } from "./token-encoder.js";
import { l2Normalize } from "./vector.js";

/** Plain data: it crosses to the worker once, when the model opens. */
export interface EmbedTaskOptions {
  model: ModelDir;
  maxTokens: number;
  maxPaddedTokens: number;
}

export interface EmbedTaskInput {
  texts: string[];
}

/** Row i of `vectors` (`dim` floats, unit length) is text i's. */
export interface EmbedTaskOutput {
  vectors: Float32Array;
  dim: number;
  tokens: number[];
  truncated: boolean[];
}

const PREFERRED_OUTPUT = "last_hidden_state";
const REQUIRED_INPUTS = ["input_ids", "attention_mask"];
const OPTIONAL_INPUTS = ["token_type_ids"];
const MAX_PADDING_FRACTION = 0.1;

/** The task module's entry point (RunnerTask): checks the model's signature, then embeds each input's texts. */
export function createTask(runner: ModelRunner, options: EmbedTaskOptions): TaskHandler {
  const { modelPath } = options.model;
  const output = checkSignature(runner, modelPath);
  const encoder = new TokenEncoder(options.model, options.maxTokens);
  const withTokenTypes = runner.inputNames.includes("token_type_ids");

  const run = async (encoded: EncodedText[]) => {
    const batch = encoded.length;
    const seq = Math.max(...encoded.map((e) => e.ids.length));
    const ids = new BigInt64Array(batch * seq).fill(BigInt(encoder.padId));
    const mask = new BigInt64Array(batch * seq);
    encoded.forEach((e, row) => {
      e.ids.forEach((id, t) => {
        ids[row * seq + t] = BigInt(id);
        mask[row * seq + t] = 1n;
      });
    });
    const feeds = {
      input_ids: { type: "int64" as const, data: ids, dims: [batch, seq] },
      attention_mask: { type: "int64" as const, data: mask, dims: [batch, seq] },
      // One text per row, so every token belongs to the first segment.
      ...(withTokenTypes && { token_type_ids: { type: "int64" as const, data: new BigInt64Array(batch * seq), dims: [batch, seq] } }),
    };
    let out;
    try {
      out = (await runner.run(feeds, [output], { output, mask: "attention_mask" }))[output];
    } catch (err) {
      // onnxruntime refusing the graph, or an output that cannot be pooled, is the file's fault.
      throw invalidFile(`${modelPath}: ${(err as Error).message}`, modelPath);
    }
    const [b, dim] = out?.dims ?? [];
    if (!(out?.data instanceof Float32Array) || out.dims.length !== 2 || b !== batch || dim === undefined) {
      throw invalidFile(`output ${output} of ${modelPath} must be float32 [batch, sequence, hidden], got ${out?.type} [${out?.dims.join(", ")}]`, modelPath);
    }
    return { pooled: out.data, dim };
  };

  return async (input) => {
    const { texts } = input as EmbedTaskInput;
    const encoded = texts.map((text) => encoder.encode(text));
    let vectors = new Float32Array(0);
    let dim = 0;
    for (const rows of lengthBuckets(encoded, options.maxPaddedTokens)) {
      const done = await run(rows.map((i) => encoded[i]!));
      if (vectors.length === 0) [vectors, dim] = [new Float32Array(texts.length * done.dim), done.dim];
      rows.forEach((i, row) => vectors.set(l2Normalize(done.pooled.subarray(row * dim, (row + 1) * dim)), i * dim));
    }
    const value: EmbedTaskOutput = { vectors, dim, tokens: encoded.map((e) => e.ids.length), truncated: encoded.map((e) => e.truncated) };
    return { value, transfer: [vectors.buffer as ArrayBuffer] };
  };
}

/**
 * Row indices sorted by length and cut into runs of similar lengths: a run
 * ends before the row that would make its padded size (rows × the run's
 * longest) exceed the cap, or its padding exceed a tenth of its real tokens.
 * The model's cost grows with padded tokens, so short texts are never padded
 * to a long one's length; a run is one more call into onnxruntime, so more
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

/** Checks the inputs the embedder can feed and picks the output to pool. */
function checkSignature(session: ModelRunner, modelPath: string): string {
  const missing = REQUIRED_INPUTS.filter((name) => !session.inputNames.includes(name));
  const unknown = session.inputNames.filter((name) => !REQUIRED_INPUTS.includes(name) && !OPTIONAL_INPUTS.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw invalidFile(`${modelPath} has inputs [${session.inputNames.join(", ")}]; an embedder feeds input_ids, attention_mask and optionally token_type_ids`, modelPath);
  }
  const output = session.outputNames.includes(PREFERRED_OUTPUT) ? PREFERRED_OUTPUT : session.outputNames[0];
  if (output === undefined) throw invalidFile(`${modelPath} has no outputs`, modelPath);
  const meta = session.outputMetadata.find((m): m is Extract<ValueInfo, { isTensor: true }> => m.name === output && m.isTensor);
  if (meta !== undefined && ((meta.shape.length > 0 && meta.shape.length !== 3) || meta.type !== "float32")) {
    throw invalidFile(`output ${output} of ${modelPath} must be float32 [batch, sequence, hidden], got ${meta.type} [${meta.shape.join(", ")}]`, modelPath);
  }
  return output;
}
