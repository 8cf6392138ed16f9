/**
 * The "onnx" backend: a decoder-only Hugging Face Optimum export with a KV
 * cache, run by onnxruntime-node on the CPU or one CUDA device. It renders the
 * chat template, prefills the prompt, then samples one token per step until an
 * eos id, a stop string, maxNewTokens, the model's context, or the signal.
 */
import { basename } from "node:path";
import type { InferenceThread, ModelRunner } from "../inference/index.js";
import { ColmenaError, invalid } from "../../runtime/index.js";
import type { BackendHealth, FinishReason, GenerateEvent, GenerateRequest, LlmBackend, Warn } from "./backend.js";
import { chatFormatter } from "./chat-template.js";
import type { ChatFormatter } from "./chat-template.js";
import { ContinuousBatcher } from "./continuous-batch.js";
import { createStepper } from "./decoder-step.js";
import type { CacheMode, DecoderStepper } from "./decoder-step.js";
import { IncrementalDecoder } from "./detokenizer.js";
import { kvLayout } from "./kv-layout.js";
import type { KvLayout } from "./kv-layout.js";
import { readModelFiles } from "./model-files.js";
import { openSession } from "./onnx-session.js";
import type { Device } from "./onnx-session.js";
import { generateOneToken, validateRequest } from "./request.js";
import { createSampler } from "./sampling.js";
import { SequenceSlots } from "./slots.js";
import { StopScanner } from "./stop.js";
import { TextTokenizer } from "./tokenizer.js";

export interface OnnxDecoderOptions {
  /** A directory holding model.onnx (or modelFile), tokenizer.json and the config files. */
  modelDir: string;
  modelFile?: string;
  /** Default "cpu". */
  device?: Device;
  intraOpNumThreads?: number;
  /** Where inference runs (default "worker": off the event loop). */
  thread?: InferenceThread;
  /** Continuous batching: most tokens in one step, one per decoding sequence plus the prompts prefilled before it (default 2048). */
  maxTokensPerStep?: number;
  /** Sequences it runs at once; more is OVERLOADED. Default: no limit (the pool gives each instance maxConcurrentSequences). */
  maxConcurrent?: number;
  /** Default "kv"; "recompute" exists for benchmarks and tests. */
  cache?: CacheMode;
  /** Receives the CUDA fallback warning. */
  warn: Warn;
  /** Default "onnx:<directory name>". */
  id?: string;
}

export class OnnxDecoderBackend implements LlmBackend {
  readonly circuit = undefined;
  private closed = false;
  /** Every kv-mode sequence of this instance shares its decode steps. */
  readonly batcher: ContinuousBatcher;

  private constructor(
    readonly id: string,
    readonly device: Device,
    readonly fellBackToCpu: boolean,
    readonly slots: SequenceSlots,
    readonly layout: KvLayout,
    private readonly session: ModelRunner,
    private readonly tokenizer: TextTokenizer,
    private readonly format: ChatFormatter,
    private readonly cache: CacheMode,
    /** Most tokens the model takes in one sequence (config.json max_position_embeddings). */
    private readonly contextLength: number,
    maxTokensPerStep: number,
  ) {
    this.batcher = new ContinuousBatcher(session, layout, { maxTokensPerStep });
  }

  /** Missing or malformed files, or a graph without the KV-cache interface, are INVALID naming the path. */
  static async load(opts: OnnxDecoderOptions): Promise<OnnxDecoderBackend> {
    const files = await readModelFiles(opts.modelDir, opts.modelFile);
    const tokenizer = TextTokenizer.fromFiles(files);
    const format = chatFormatter(files.chatTemplate, tokenizer);
    const opened = await openSession(files.modelPath, {
      device: opts.device ?? "cpu",
      warn: opts.warn,
      ...(opts.intraOpNumThreads !== undefined && { intraOpNumThreads: opts.intraOpNumThreads }),
      ...(opts.thread !== undefined && { thread: opts.thread }),
    });
    const { session } = opened;
    try {
      const layout = kvLayout(session.inputMetadata, session.outputMetadata, files.config, files.modelPath);
      const context = files.config.max_position_embeddings;
      const id = opts.id ?? `onnx:${basename(files.dir)}`;
      return new OnnxDecoderBackend(
        id,
        opened.device,
        opened.fellBackToCpu,
        new SequenceSlots(opts.maxConcurrent ?? Number.POSITIVE_INFINITY, `llm backend ${id}`),
        layout,
        session,
        tokenizer,
        format,
        opts.cache ?? "kv",
        Number.isInteger(context) && (context as number) > 0 ? (context as number) : Number.POSITIVE_INFINITY,
        opts.maxTokensPerStep ?? DEFAULT_MAX_TOKENS_PER_STEP,
      );
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  warmUp(): Promise<void> {
    return generateOneToken(this);
  }

  /** Healthy while its session is open. */
  async health(): Promise<BackendHealth> {
    if (this.closed) throw this.closedError();
    return { models: [this.id], servesModel: true };
  }

  async *generate(req: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent, void> {
    validateRequest(req);
    if (this.closed) throw this.closedError();
    const promptIds = this.tokenizer.encode(this.format(req.messages));
    if (promptIds.length === 0) throw invalid("the prompt encodes to no tokens");
    if (promptIds.length >= this.contextLength) {
      throw invalid(`the prompt has ${promptIds.length} tokens; the model takes at most ${this.contextLength}`, {
        promptTokens: promptIds.length,
      });
    }
    this.slots.take();
    try {
      const count = { completion: 0 };
      const reason = yield* this.decode(promptIds, req, signal, count);
      yield { type: "done", reason, promptTokens: promptIds.length, completionTokens: count.completion };
    } finally {
      this.slots.release();
    }
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private closedError(): ColmenaError {
    return new ColmenaError("UNAVAILABLE", `llm backend ${this.id} is closed`);
  }

  private async *decode(
    promptIds: number[],
    req: GenerateRequest,
    signal: AbortSignal,
    count: { completion: number },
  ): AsyncGenerator<GenerateEvent, FinishReason> {
    const seq = this.cache === "kv" ? this.batcher.join() : alone(createStepper(this.session, this.layout, this.cache));
    const sample = createSampler(req);
    const text = new IncrementalDecoder((ids) => this.tokenizer.decode(ids));
    const stops = new StopScanner(req.stop ?? []);
    try {
      if (signal.aborted) return "cancelled";
      let logits = await seq.feed(promptIds);
      for (;;) {
        if (signal.aborted) return "cancelled";
        const id = sample(logits);
        count.completion++;
        if (this.tokenizer.eosIds.has(id)) return yield* finish(text, stops, "stop");
        const more = count.completion < req.maxNewTokens && seq.length < this.contextLength;
        // The next step is asked for before the text goes out, so a slow reader never holds the batch's step back.
        const nextStep = more ? seq.feed([id]) : undefined;
        nextStep?.catch(() => {});
        const piece = stops.push(text.push(id));
        if (piece.text !== "") yield { type: "token", text: piece.text };
        if (piece.stopped) return "stop";
        if (nextStep === undefined) return yield* finish(text, stops, "length");
        if (signal.aborted) return "cancelled";
        logits = await nextStep;
      }
    } finally {
      seq.leave();
    }
  }
}

const DEFAULT_MAX_TOKENS_PER_STEP = 2048;

/** A stepper of its own (recompute mode): nothing to leave. */
function alone(stepper: DecoderStepper): DecoderStepper & { leave(): void } {
  return { feed: (ids) => stepper.feed(ids), get length() { return stepper.length; }, leave: () => {} };
}

/** Emits the text still held back by the detokeniser and the stop scanner; a stop string found in it wins. */
function* finish(text: IncrementalDecoder, stops: StopScanner, reason: FinishReason): Generator<GenerateEvent, FinishReason> {
  const last = stops.push(text.flush());
  const tail = last.stopped ? last.text : last.text + stops.flush();
  if (tail !== "") yield { type: "token", text: tail };
  return last.stopped ? "stop" : reason;
}
