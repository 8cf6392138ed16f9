/** Shared pieces of the llm tests: a tiny decoder in a temporary directory, and stream collection. */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChatMessage, GenerateEvent, Warn } from "../../actors/llm/backend.js";
import { chatFormatter } from "../../actors/llm/chat-template.js";
import { createStepper } from "../../actors/llm/decoder-step.js";
import { kvLayout } from "../../actors/llm/kv-layout.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { openSession } from "../../actors/llm/onnx-session.js";
import { argmax } from "../../actors/llm/sampling.js";
import { TextTokenizer } from "../../actors/llm/tokenizer.js";
import { buildTinyDecoder } from "../fixtures/decoder/build-decoder.js";
import type { TinyDecoder, TinyDecoderOptions } from "../fixtures/decoder/build-decoder.js";

export const ignoreWarnings: Warn = () => {};

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "colmena-llm-"));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function tinyDecoder(opts?: TinyDecoderOptions): Promise<TinyDecoder> {
  return buildTinyDecoder(join(await tempDir(), "tiny-decoder"), opts);
}

/** A copy of a model directory that a test may change. */
export async function copyModel(dir: string): Promise<string> {
  const copy = join(await tempDir(), "model");
  await cp(dir, copy, { recursive: true });
  return copy;
}

export interface Collected {
  text: string;
  tokens: string[];
  done: Extract<GenerateEvent, { type: "done" }>;
}

/** Reads a stream to its end, checking that it ends with exactly one done event. */
export async function collect(stream: AsyncIterable<GenerateEvent>): Promise<Collected> {
  const tokens: string[] = [];
  let done: Collected["done"] | undefined;
  for await (const event of stream) {
    if (done !== undefined) throw new Error("event after done");
    if (event.type === "token") tokens.push(event.text);
    else done = event;
  }
  if (done === undefined) throw new Error("stream ended without done");
  return { text: tokens.join(""), tokens, done };
}

/** The ids greedy decoding picks after the prompt of messages, through the KV-cache stepper. */
export async function greedyIds(dir: string, messages: ChatMessage[], count: number): Promise<number[]> {
  const files = await readModelFiles(dir);
  const tokenizer = TextTokenizer.fromFiles(files);
  const { session } = await openSession(files.modelPath, { device: "cpu", warn: ignoreWarnings });
  try {
    const stepper = createStepper(session, kvLayout(session.inputMetadata, session.outputMetadata, files.config, dir), "kv");
    const ids: number[] = [];
    let next = tokenizer.encode(chatFormatter(files.chatTemplate, tokenizer)(messages));
    while (ids.length < count) {
      ids.push(argmax(await stepper.feed(next)));
      next = ids.slice(-1);
    }
    return ids;
  } finally {
    await session.release();
  }
}
