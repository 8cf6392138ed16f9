/** The session kind's configuration and a session's own settings (zod, validated once). */
import { z } from "zod";
import { invalid, zodIssues } from "../../runtime/index.js";

const positive = z.number().int().positive();

/** What one session may change about its answers; the pipeline reads them. */
export const SessionSettingsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxNewTokens: positive.max(8_192).optional(),
  /** Passages to retrieve. */
  topK: positive.max(100).optional(),
  /** Rewrite follow-up questions into standalone queries (default true). */
  rewrite: z.boolean().optional(),
  language: z.string().min(2).max(35).optional(),
  systemPrompt: z.string().max(4_000).optional(),
});
export type SessionSettings = z.output<typeof SessionSettingsSchema>;

export const SessionConfigSchema = z.strictObject({
  /** Turns kept; older ones are dropped. */
  maxTurns: positive.default(20),
  /** Approximate tokens of question + answer text kept over all turns. */
  maxHistoryTokens: positive.default(2_000),
  /** Passivate a session after this long without a message. */
  idleMs: positive.default(60_000),
  /** A conversation is forgotten this long after its last turn (its saved state expires in NATS KV). */
  ttlMs: positive.default(7 * 24 * 3_600_000),
  rewrite: z
    .strictObject({
      /** "llm" asks the llm pool (and falls back to the heuristic on error); needs an llm kind. */
      mode: z.enum(["heuristic", "llm"]).default("heuristic"),
      /** Earlier turns the rewriting model sees. */
      turns: positive.default(3),
      maxNewTokens: positive.default(48),
      timeoutMs: positive.default(5_000),
      /** Key terms the heuristic takes from the previous question. */
      maxKeyTerms: positive.default(6),
    })
    .prefault({}),
  /** Settings a new session starts with. */
  settings: SessionSettingsSchema.default({}),
});

export type SessionConfig = z.output<typeof SessionConfigSchema>;
export type SessionConfigInput = z.input<typeof SessionConfigSchema>;

export function parseSessionConfig(input: SessionConfigInput | undefined): SessionConfig {
  const parsed = SessionConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw invalid(["invalid session configuration:", ...zodIssues(parsed.error)].join("\n  "), { issues: parsed.error.issues });
}
