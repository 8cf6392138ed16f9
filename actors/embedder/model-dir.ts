/**
 * Reads a sentence-transformers ONNX export directory: `model.onnx` (or
 * another file name), `tokenizer.json`, and the optional
 * `tokenizer_config.json` and `sentence_bert_config.json`. Every problem is
 * INVALID with the offending path in details.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ColmenaError } from "../../runtime/index.js";

export interface ModelDir {
  dir: string;
  modelPath: string;
  tokenizerPath: string;
  /** The parsed tokenizer.json. */
  tokenizer: Record<string, unknown>;
  /** The parsed tokenizer_config.json, or {} when there is none. */
  tokenizerConfig: Record<string, unknown>;
  /** The longest input the export declares, if it declares one. */
  maxTokens: number | undefined;
}

/** tokenizer_config.json often says 1e30 for "no limit": such values are ignored. */
const PLAUSIBLE_MAX_TOKENS = 1_000_000;

/** INVALID for a bad file of the export, naming it in details.path. */
export const invalidFile = (message: string, path: string, cause?: unknown) =>
  new ColmenaError("INVALID", message, { details: { path }, ...(cause !== undefined && { cause }) });

export async function readModelDir(dir: string, modelFile = "model.onnx"): Promise<ModelDir> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw invalidFile(`embedder model directory ${dir} does not exist or is not a directory`, dir);
  const modelPath = join(dir, modelFile);
  if (!(await stat(modelPath).catch(() => undefined))?.isFile()) throw invalidFile(`embedder model file ${modelPath} is missing`, modelPath);
  const tokenizerPath = join(dir, "tokenizer.json");
  const tokenizer = await readJson(tokenizerPath, true);
  if (typeof tokenizer.model !== "object" || tokenizer.model === null) throw invalidFile(`${tokenizerPath} has no tokenizer model`, tokenizerPath);
  const tokenizerConfig = await readJson(join(dir, "tokenizer_config.json"), false);
  const sentenceConfig = await readJson(join(dir, "sentence_bert_config.json"), false);
  const truncation = tokenizer.truncation as Record<string, unknown> | null | undefined;
  const maxTokens = [sentenceConfig.max_seq_length, truncation?.max_length, tokenizerConfig.model_max_length].find(
    (n): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= PLAUSIBLE_MAX_TOKENS,
  );
  return { dir, modelPath, tokenizerPath, tokenizer, tokenizerConfig, maxTokens };
}

async function readJson(path: string, required: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (!required && (cause as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw invalidFile(`cannot read ${path}: ${(cause as Error).message}`, path, cause);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalidFile(`${path} is not valid JSON: ${(cause as Error).message}`, path, cause);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidFile(`${path} must hold a JSON object`, path);
  return value as Record<string, unknown>;
}
