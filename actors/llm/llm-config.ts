/**
 * The llm pool's configuration: which backend an instance runs and the limits
 * it enforces. One zod schema, so a node can embed it in its config file /
 * environment / flags schema and a bad value names its key.
 */
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { z } from "zod";
import { invalid, zodIssues } from "../../runtime/index.js";
import type { Device } from "./onnx-session.js";

const device = z
  .string()
  .regex(/^(cpu|cuda:\d+)$/, 'must be "cpu" or "cuda:N"')
  .transform((d) => d as Device);

const positive = z.number().int().positive();

export const OnnxBackendConfigSchema = z.strictObject({
  type: z.literal("onnx"),
  /** A decoder export directory (model.onnx, tokenizer.json, configs). */
  modelDir: z.string().min(1),
  modelFile: z.string().min(1).optional(),
  device: device.default("cpu"),
  /** One pool instance per listed device on this node; when set, `device` is ignored. */
  devices: z.array(device).min(1).optional(),
  /** onnxruntime intra-op threads per instance (default: the machine's cores less one). */
  threads: positive.optional(),
  /** Where inference runs: "worker" (the default) keeps it off the node's event loop. */
  inferenceThread: z.enum(["worker", "main"]).default("worker"),
  /** Continuous batching: most tokens in one step, one per decoding sequence plus the prompts prefilled before it. */
  maxTokensPerStep: positive.default(2048),
});

export const OpenAiBackendConfigSchema = z.strictObject({
  type: z.literal("openai"),
  /** The engine's API root, e.g. http://10.0.0.7:8000/v1 (…/chat/completions and …/models hang off it). */
  baseUrl: z.url(),
  model: z.string().min(1),
  apiKey: z.string().min(1).optional(),
  /** Sequences the engine takes at once from this instance. */
  maxConcurrent: positive.default(8),
  /** Until the response headers arrive. */
  connectTimeoutMs: positive.default(10_000),
  /** Longest silence between two streamed chunks. */
  idleTimeoutMs: positive.default(30_000),
  healthTimeoutMs: positive.default(2_000),
  breaker: z
    .strictObject({
      /** Consecutive engine failures that open the circuit. */
      consecutiveFailures: positive.default(3),
      /** How long the circuit stays open before a health probe may close it. */
      halfOpenAfterMs: positive.default(5_000),
    })
    .prefault({}),
  /** A label for the engine's device in status and metrics (the actor cannot see it). */
  device: z.string().min(1).default("remote"),
});

export const ExtractiveBackendConfigSchema = z.strictObject({
  type: z.literal("extractive"),
  maxSentences: positive.default(4),
});

export const LlmLimitsSchema = z.strictObject({
  /** Prompts above this are trimmed: history oldest first, then the lowest-ranked passages. */
  maxPromptTokens: positive.default(4_096),
  /** The most a request may ask for; larger requests are clamped to it. */
  maxNewTokens: positive.default(512),
  /** A generation still running after this is stopped and answered with TIMEOUT. */
  requestTimeoutMs: positive.default(120_000),
  /** Sequences one instance generates at once (the actor's concurrency). */
  maxConcurrentSequences: positive.default(1),
  /** Requests queued behind them (the mailbox capacity); beyond it: OVERLOADED. */
  maxWaiting: positive.default(16),
});

const BackendSchema = z.discriminatedUnion("type", [OnnxBackendConfigSchema, OpenAiBackendConfigSchema, ExtractiveBackendConfigSchema]);

/** One more model an instance serves, loaded on its first use; it runs on the instance's device (an onnx `devices` list is not read here). */
export const LlmModelSchema = z.strictObject({
  /** What a `generate` message (and the chat route's `model`) names it by. */
  id: z.string().min(1),
  backend: BackendSchema,
  /** What it costs against `memoryBudgetBytes` while loaded; default: an onnx model file's size, 0 for the others. */
  memoryBytes: z.number().int().nonnegative().optional(),
});

export const LlmConfigSchema = z
  .strictObject({
    /** The default model: loaded at start, never unloaded, what a request without `model` gets. */
    backend: BackendSchema.prefault({ type: "extractive" }),
    /** The default's cost against the budget; default as for `models`. */
    memoryBytes: z.number().int().nonnegative().optional(),
    /** More models each instance serves, selected by `model`. */
    models: z.array(LlmModelSchema).default([]),
    /**
     * Most bytes of models loaded at once per instance, the default's included; a model that would pass it
     * first unloads the least recently used idle ones. Default: no limit, nothing is unloaded.
     */
    memoryBudgetBytes: positive.optional(),
    limits: LlmLimitsSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const ids = [llmModelId(c.backend), ...c.models.map((m) => m.id)];
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: "custom", message: `model id ${id} is used twice (the default's is ${ids[0]})`, path: ["models", i - 1, "id"] });
    });
  });

export type LlmConfig = z.output<typeof LlmConfigSchema>;
export type LlmModelConfig = z.output<typeof LlmModelSchema>;
export type LlmConfigInput = z.input<typeof LlmConfigSchema>;
export type LlmBackendConfig = LlmConfig["backend"];
export type OnnxBackendConfig = z.output<typeof OnnxBackendConfigSchema>;
export type OpenAiBackendConfig = z.output<typeof OpenAiBackendConfigSchema>;
export type LlmLimits = z.output<typeof LlmLimitsSchema>;

/** Validates once; a bad value is INVALID naming its key (e.g. `backend.baseUrl`). */
export function parseLlmConfig(input: LlmConfigInput | undefined): LlmConfig {
  const parsed = LlmConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw invalid(["invalid llm configuration:", ...zodIssues(parsed.error)].join("\n  "), { issues: parsed.error.issues });
}

/** The default model's id: what /v1/models lists and answers name ("onnx:<dir>", "openai:<model>", "extractive"). */
export function llmModelId(backend: LlmBackendConfig): string {
  if (backend.type === "onnx") return `onnx:${basename(backend.modelDir)}`;
  if (backend.type === "openai") return `openai:${backend.model}`;
  return "extractive";
}

/**
 * What a model counts against the budget: `memoryBytes` when given, else an
 * onnx model file's size (the weights dominate; onnxruntime's arena and the
 * KV cache come on top: an estimate, not a limit the process is held to).
 * An engine's models live in the engine and the extractive one holds none: 0.
 */
export async function llmModelBytes(backend: LlmBackendConfig, memoryBytes: number | undefined): Promise<number> {
  if (memoryBytes !== undefined) return memoryBytes;
  if (backend.type !== "onnx") return 0;
  return (await stat(join(backend.modelDir, backend.modelFile ?? "model.onnx"))).size;
}

/** The devices this node runs instances on: one instance per entry. */
export function instanceDevices(backend: LlmBackendConfig): string[] {
  if (backend.type === "onnx") return backend.devices ?? [backend.device];
  if (backend.type === "openai") return [backend.device];
  return ["cpu"];
}
