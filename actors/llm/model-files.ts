/**
 * The files of a decoder export directory: model.onnx, tokenizer.json, and the
 * optional config.json, generation_config.json, tokenizer_config.json and
 * chat_template.jinja. A missing required file or an unparsable one is INVALID,
 * naming its path.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { invalid } from "../../runtime/index.js";

export type Json = Record<string, unknown>;

export interface ModelFiles {
  dir: string;
  modelPath: string;
  tokenizer: Json;
  tokenizerConfig: Json;
  config: Json;
  generationConfig: Json;
  /** The template from tokenizer_config.json, else from chat_template.jinja. */
  chatTemplate: string | undefined;
}

export async function readModelFiles(dir: string, modelFile = "model.onnx"): Promise<ModelFiles> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw invalid(`model directory not found: ${dir}`, { path: dir });
  const modelPath = join(dir, modelFile);
  if (!(await stat(modelPath).catch(() => undefined))?.isFile()) throw invalid(`model file not found: ${modelPath}`, { path: modelPath });
  const tokenizer = await readJson(join(dir, "tokenizer.json"), true);
  const tokenizerConfig = await readJson(join(dir, "tokenizer_config.json"), false);
  return {
    dir,
    modelPath,
    tokenizer,
    tokenizerConfig,
    config: await readJson(join(dir, "config.json"), false),
    generationConfig: await readJson(join(dir, "generation_config.json"), false),
    chatTemplate: templateOf(tokenizerConfig.chat_template) ?? (await readText(join(dir, "chat_template.jinja"))),
  };
}

/** A chat_template is a string, or a list of named templates of which "default" is used. */
function templateOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return undefined;
  const named = value.find((t: unknown) => typeof t === "object" && t !== null && (t as Json).name === "default") as Json | undefined;
  return typeof named?.template === "string" ? named.template : undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid(`cannot read ${path}: ${(err as Error).message}`, { path });
  }
}

async function readJson(path: string, required: boolean): Promise<Json> {
  const text = await readText(path);
  if (text === undefined) {
    if (required) throw invalid(`required model file not found: ${path}`, { path });
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`malformed JSON in ${path}: ${(err as Error).message}`, { path });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(`expected a JSON object in ${path}`, { path });
  return value as Json;
}
