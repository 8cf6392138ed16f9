/**
 * The llm pool: a pooled actor kind, one instance per device on each node
 * that hosts it, each wrapping one LlmBackend. An instance loads and warms
 * its backend in onStart, streams `generate` as token events, and keeps its
 * state in `llmInstanceMachine`: the backend's slots move it between ready
 * and busy. Admission is the runtime's: the kind's concurrency is the
 * backend's slot count and its mailbox holds maxWaiting requests, so a full
 * instance leaves the queue group and a full mailbox answers OVERLOADED at
 * once.
 *
 * A crash (a non-ColmenaError from the backend, or onStart failing) is the
 * supervisor's: it starts a new incarnation of the instance. When the crash
 * happened on a GPU, the new incarnation loads on the CPU and reports
 * `fellBackToCpu`.
 */
import { createActor, type Actor } from "xstate";
import { z } from "zod";
import { ColmenaError, defineActor, isColmenaError, ScopedSignal, stage, type ActorContext, type CallContext } from "../../runtime/index.js";
import type { CircuitStatus, GenerateEvent, GenerateRequest, LlmBackend, Warn } from "./backend.js";
import { ExtractiveBackend } from "./extractive.js";
import { instanceDevices, llmModelBytes, llmModelId, parseLlmConfig, type LlmBackendConfig, type LlmConfig, type LlmConfigInput, type LlmLimits } from "./llm-config.js";
import { llmInstanceMachine, type LlmState } from "./llm-machine.js";
import { OnnxDecoderBackend } from "./onnx-decoder.js";
import type { Device } from "./onnx-session.js";
import { OpenAiBackend } from "./openai-backend.js";
import { fitPrompt } from "./prompt-budget.js";
import { ModelRegistry, type ModelInfo, type ModelSpec } from "../inference/index.js";
import { addLlmInstance, addModelRegistry, llmGeneratedTokens, llmInference, llmPromptTokens, llmTimeToFirstToken } from "../metrics.js";

const ChatMessageSchema = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

/** The llm kind's messages. */
export const LlmMessages = {
  /** Streams LlmStreamEvent: token events, then one done event. */
  generate: z.object({
    messages: z.array(ChatMessageSchema).min(1),
    /** Clamped to limits.maxNewTokens; default: that limit. */
    maxNewTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string().min(1)).optional(),
    /** One of the ids `models` lists; absent: the default model. */
    model: z.string().min(1).optional(),
  }),
  status: z.object({}),
  /** The models an instance serves and whether each is loaded there. */
  models: z.object({}),
};

/** What `models` answers. */
export interface LlmModels {
  /** The default model's id: what `generate` without `model` uses. */
  default: string;
  memoryBudgetBytes?: number;
  models: ModelInfo[];
}

export type LlmDoneEvent = Extract<GenerateEvent, { type: "done" }> & {
  backend: string;
  device: string;
  /** What fitting the prompt under maxPromptTokens dropped. */
  trimmed: { history: number; passages: number };
};
export type LlmStreamEvent = Extract<GenerateEvent, { type: "token" }> | LlmDoneEvent;

export interface LlmStatus {
  /** The pool instance (node id and index). */
  instance: string;
  state: LlmState;
  backend: string;
  /** The device in use. */
  device: string;
  /** The device configured for this instance. */
  requestedDevice: string;
  fellBackToCpu: boolean;
  /** Sequences generating now: the backend's slots in use. */
  inFlight: number;
  /** Requests queued behind them in the mailbox. */
  waiting: number;
  /** The backend's slots. */
  maxConcurrentSequences: number;
  /** Incarnations after a failure. */
  restarts: number;
  /** The engine's circuit, for the openai backend. */
  circuit?: CircuitStatus;
  /** Every model the instance serves (the default first), loaded or not. */
  models: ModelInfo[];
}

/** What a backend factory is given for one instance. */
export interface BackendSpec {
  config: LlmBackendConfig;
  /** The device to load on: the configured one, or "cpu" after a device failure. */
  device: string;
  /** Sequences the instance runs at once: the backend's slots, and the kind's concurrency. */
  slots: number;
  warn: Warn;
}

export type BackendFactory = (spec: BackendSpec) => Promise<LlmBackend>;

export interface LlmKindOptions {
  /** Default "llm". */
  kind?: string;
  /** Default: the backend the config names. Embedders and tests may bring their own. */
  createBackend?: BackendFactory;
}

/** The backend a config names, on the given device. */
export const defaultBackendFactory: BackendFactory = async ({ config, device, slots, warn }) => {
  switch (config.type) {
    case "onnx":
      return OnnxDecoderBackend.load({
        modelDir: config.modelDir,
        device: device as Device,
        maxConcurrent: slots,
        warn,
        thread: config.inferenceThread,
        maxTokensPerStep: config.maxTokensPerStep,
        ...(config.modelFile !== undefined && { modelFile: config.modelFile }),
        ...(config.threads !== undefined && { intraOpNumThreads: config.threads }),
      });
    case "openai":
      return new OpenAiBackend({ ...config, device, maxConcurrent: slots, warn, ...(config.apiKey !== undefined && { apiKey: config.apiKey }) });
    case "extractive":
      return new ExtractiveBackend({ maxSentences: config.maxSentences, maxConcurrent: slots });
  }
};

/** What outlives an incarnation of one pool instance: its configured device, its statechart and how often it restarted after a failure. */
interface InstanceRecord {
  device: string;
  machine: Actor<typeof llmInstanceMachine>;
  restarts: number;
}

/**
 * Declares the llm pool kind for a config. Every node builds it from its own
 * config; a node that only sends to the pool may build it from any config,
 * since addressing needs only the kind name and messages.
 */
export function llmKind(input: LlmConfigInput | LlmConfig = {}, options: LlmKindOptions = {}) {
  const config = parseLlmConfig(input);
  const devices = instanceDevices(config.backend);
  const slots = sequenceSlots(config);
  const createBackend = options.createBackend ?? defaultBackendFactory;
  const records = new Map<string, InstanceRecord>();
  const record = (key: string): InstanceRecord => {
    let rec = records.get(key);
    if (rec === undefined) {
      rec = { device: devices[records.size % devices.length]!, machine: createActor(llmInstanceMachine).start(), restarts: 0 };
      records.set(key, rec);
    }
    return rec;
  };
  return defineActor({
    kind: options.kind ?? "llm",
    placement: "pooled",
    instances: devices.length,
    concurrency: slots,
    mailbox: { capacity: config.limits.maxWaiting },
    messages: LlmMessages,
    create: (ctx) => new LlmInstance(ctx, config, slots, record(ctx.key), createBackend),
    calls: [],
  });
}

/** Sequences an instance runs at once: maxConcurrentSequences, and no more than an engine takes. */
function sequenceSlots(config: LlmConfig): number {
  const { maxConcurrentSequences } = config.limits;
  return config.backend.type === "openai" ? Math.min(maxConcurrentSequences, config.backend.maxConcurrent) : maxConcurrentSequences;
}

export type LlmKind = ReturnType<typeof llmKind>;

/** One incarnation of a pool instance. */
class LlmInstance {
  readonly #ctx: ActorContext;
  readonly #config: LlmConfig;
  readonly #limits: LlmLimits;
  readonly #slots: number;
  readonly #rec: InstanceRecord;
  readonly #createBackend: BackendFactory;
  #backend: LlmBackend | undefined;
  /** The default backend (preloaded, never unloaded) and the config's other models, loaded on first use. */
  #models: ModelRegistry<LlmBackend> | undefined;
  #unwatch: (() => void) | undefined;

  constructor(ctx: ActorContext, config: LlmConfig, slots: number, rec: InstanceRecord, createBackend: BackendFactory) {
    this.#ctx = ctx;
    this.#config = config;
    this.#limits = config.limits;
    this.#slots = slots;
    this.#rec = rec;
    this.#createBackend = createBackend;
  }

  get #state(): LlmState {
    return this.#rec.machine.getSnapshot().value;
  }

  get #deviceFailed(): boolean {
    return this.#rec.machine.getSnapshot().context.deviceFailed;
  }

  /** The backend, once onStart has loaded it: the cell hands over no message before. */
  get #loaded(): LlmBackend {
    if (this.#backend === undefined) throw new ColmenaError("UNAVAILABLE", `llm instance ${this.#ctx.key} has no backend loaded`);
    return this.#backend;
  }

  async onStart(): Promise<void> {
    const { machine } = this.#rec;
    if (this.#state === "failed") {
      machine.send({ type: "RESTART" });
      this.#rec.restarts++;
    }
    const device = this.#deviceFailed ? "cpu" : this.#rec.device;
    const warn: Warn = (msg, fields) => this.#ctx.log.warn(fields, msg);
    machine.send({ type: "LOAD" });
    try {
      const backend = await this.#createBackend({ config: this.#config.backend, device, slots: this.#slots, warn });
      this.#backend = backend;
      machine.send({ type: "LOADED" });
      await this.#warm(backend);
      machine.send({ type: "WARMED" });
      const models = await this.#registry(backend, device, warn);
      this.#models = models;
      const { slots } = backend;
      // Only on a crossing, as the runtime sends its statecharts events: a generation that starts or ends below capacity changes nothing.
      let saturated = false;
      const unwatch = slots.watch(() => {
        if (saturated === slots.inFlight >= slots.capacity) return;
        saturated = !saturated;
        machine.send({ type: saturated ? "SATURATE" : "FREE" });
      });
      const unlist = addLlmInstance(() => ({ active: slots.inFlight, waiting: this.#ctx.stats().mailbox }));
      const unlistModels = addModelRegistry("llm", models);
      this.#unwatch = () => {
        unwatch();
        unlist();
        unlistModels();
      };
      this.#ctx.log.info({ backend: backend.id, device: backend.device, requested: this.#rec.device }, "llm instance ready");
    } catch (err) {
      this.#failed(err, device);
      await this.#backend?.close().catch(() => {});
      this.#backend = undefined;
      throw err;
    }
  }

  async onStop(): Promise<void> {
    this.#unwatch?.();
    // A failed instance stays failed through its stop, for the next incarnation to restart.
    const failed = this.#state === "failed";
    if (!failed) this.#rec.machine.send({ type: "DRAIN" });
    // The registry closes the default backend with the others.
    await (this.#models?.close() ?? this.#backend?.close())?.catch((err: unknown) => this.#ctx.log.warn({ err }, "closing the llm backend failed"));
    if (!failed) this.#rec.machine.send({ type: "DRAINED" });
  }

  async *generate(m: z.output<typeof LlmMessages.generate>, call: CallContext): AsyncGenerator<LlmStreamEvent, void> {
    const models = this.#registryLoaded;
    // Held for the whole generation: a model with a sequence in flight is never unloaded.
    const lease = await models.acquire(m.model ?? models.ids[0]!, call.signal);
    try {
      yield* this.#generate(lease.model, m, call);
    } finally {
      lease.release();
    }
  }

  async *#generate(backend: LlmBackend, m: z.output<typeof LlmMessages.generate>, call: CallContext): AsyncGenerator<LlmStreamEvent, void> {
    const fitted = fitPrompt(m.messages, this.#limits.maxPromptTokens, (t) => backend.countTokens(t));
    const req: GenerateRequest = {
      messages: fitted.messages,
      maxNewTokens: Math.min(m.maxNewTokens ?? this.#limits.maxNewTokens, this.#limits.maxNewTokens),
      ...(m.temperature !== undefined && { temperature: m.temperature }),
      ...(m.topK !== undefined && { topK: m.topK }),
      ...(m.topP !== undefined && { topP: m.topP }),
      ...(m.seed !== undefined && { seed: m.seed }),
      ...(m.stop !== undefined && { stop: m.stop }),
    };
    const scoped = new ScopedSignal(this.#ctx.clock, this.#limits.requestTimeoutMs, () => new ColmenaError("TIMEOUT", "generation passed requestTimeoutMs"), [call.signal]);
    const started = performance.now();
    let first = true;
    // GenAI semantic conventions where they name a figure (model, token usage); time to first token is ours.
    const span = stage("generate", { "gen_ai.operation.name": "chat", "gen_ai.request.model": backend.id, "gen_ai.request.max_tokens": req.maxNewTokens, "colmena.llm.device": backend.device });
    let failure: unknown;
    try {
      for await (const event of backend.generate(req, scoped.signal)) {
        if (event.type === "token") {
          if (first) {
            const ttft = (performance.now() - started) / 1000;
            llmTimeToFirstToken.observe(ttft);
            span.set({ "colmena.llm.time_to_first_token_s": ttft });
          }
          first = false;
          llmGeneratedTokens.inc();
          yield event;
          continue;
        }
        // Aborted while the caller's signal was not: requestTimeoutMs passed.
        if (event.reason === "cancelled" && scoped.signal.aborted && !call.signal.aborted) {
          throw new ColmenaError("TIMEOUT", `generation passed requestTimeoutMs (${this.#limits.requestTimeoutMs} ms)`, { retryable: false });
        }
        llmPromptTokens.inc(event.promptTokens);
        llmInference.observe((performance.now() - started) / 1000);
        span.set({ "gen_ai.usage.input_tokens": event.promptTokens, "gen_ai.usage.output_tokens": event.completionTokens, "gen_ai.response.finish_reasons": [event.reason] });
        yield { ...event, backend: backend.id, device: backend.device, trimmed: { history: fitted.droppedHistory, passages: fitted.droppedPassages } };
      }
    } catch (err) {
      failure = err;
      if (!isColmenaError(err) || err.code === "INTERNAL") this.#failed(err, backend.device);
      throw err;
    } finally {
      span.end(failure);
      scoped.dispose();
    }
  }

  status(): LlmStatus {
    const backend = this.#loaded;
    return {
      instance: this.#ctx.key,
      state: this.#state,
      backend: backend.id,
      device: backend.device,
      requestedDevice: this.#rec.device,
      fellBackToCpu: backend.fellBackToCpu || this.#deviceFailed,
      inFlight: backend.slots.inFlight,
      waiting: this.#ctx.stats().mailbox,
      maxConcurrentSequences: backend.slots.capacity,
      restarts: this.#rec.restarts,
      ...(backend.circuit !== undefined && { circuit: backend.circuit }),
      models: this.#registryLoaded.list(),
    };
  }

  models(): LlmModels {
    const models = this.#registryLoaded;
    const budget = this.#config.memoryBudgetBytes;
    return { default: models.ids[0]!, ...(budget !== undefined && { memoryBudgetBytes: budget }), models: models.list() };
  }

  get #registryLoaded(): ModelRegistry<LlmBackend> {
    if (this.#models === undefined) throw new ColmenaError("UNAVAILABLE", `llm instance ${this.#ctx.key} has no backend loaded`);
    return this.#models;
  }

  /** The default backend, kept, and the config's other models on this instance's device, each loaded and warmed on its first request. */
  async #registry(backend: LlmBackend, device: string, warn: Warn): Promise<ModelRegistry<LlmBackend>> {
    const log = this.#ctx.log;
    const spec = async (id: string, config: LlmBackendConfig, memoryBytes: number | undefined): Promise<ModelSpec<LlmBackend>> => ({
      id,
      bytes: await llmModelBytes(config, memoryBytes),
      load: async () => {
        const loaded = await this.#createBackend({ config, device, slots: this.#slots, warn });
        try {
          await this.#warm(loaded);
        } catch (err) {
          await loaded.close().catch(() => {});
          throw err;
        }
        log.info({ model: id, backend: loaded.id, device: loaded.device }, "llm model loaded");
        return loaded;
      },
      unload: async (b) => {
        await b.close();
        log.info({ model: id }, "llm model unloaded");
      },
    });
    const budget = this.#config.memoryBudgetBytes;
    return new ModelRegistry<LlmBackend>({
      models: [
        { ...(await spec(llmModelId(this.#config.backend), this.#config.backend, this.#config.memoryBytes)), preloaded: backend },
        ...(await Promise.all(this.#config.models.map((m) => spec(m.id, m.backend, m.memoryBytes)))),
      ],
      ...(budget !== undefined && { budgetBytes: budget }),
      onUnloadError: (model, err) => log.warn({ model, err }, "unloading an llm model failed"),
    });
  }

  /**
   * The backend readies itself; its health is checked but only warned about:
   * an engine that is down at start must not crash-loop the node (its circuit
   * takes it out of rotation instead), and a local backend that cannot serve
   * has failed its warm-up already.
   */
  async #warm(backend: LlmBackend): Promise<void> {
    await backend.warmUp();
    const health = await backend.health().catch((err: unknown) => {
      this.#ctx.log.warn({ err: (err as Error).message, circuit: backend.circuit }, "llm backend not healthy at start");
      return undefined;
    });
    if (health && !health.servesModel) this.#ctx.log.warn({ backend: backend.id, models: health.models }, "llm backend does not list the configured model");
  }

  /** A crash: the statechart fails, and a crash on a GPU sends every later load to the CPU. */
  #failed(err: unknown, device: string): void {
    const deviceFailed = device.startsWith("cuda:") && !isColmenaError(err);
    this.#rec.machine.send({ type: "FAIL", deviceFailed });
    if (deviceFailed) this.#ctx.log.warn({ err, device }, "llm device failed; the next incarnation runs on the cpu");
  }
}
