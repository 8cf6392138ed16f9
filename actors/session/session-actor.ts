/**
 * The session kind: a keyed actor per session id holding the conversation
 * (bounded by turns and tokens) and the session's settings. Every change is
 * saved to the runtime's state store (a NATS KV bucket) before it is
 * answered, so a session passivated here — or lost with its node — comes back
 * with its history on the next message, on any node.
 */
import { z } from "zod";
import { defineActor, invalid, isColmenaError, ColmenaError, zodIssues, type ActorContext, type CallContext, type Logger } from "../../runtime/index.js";
import type { LlmKind } from "../llm/index.js";
import { boundHistory, historyTokens, SourceSchema, TurnSchema, type Turn } from "./history.js";
import { heuristicRewrite, parseRewrite, rewritePrompt, standalone } from "./rewrite.js";
import { parseSessionConfig, SessionSettingsSchema, type SessionConfig, type SessionConfigInput, type SessionSettings } from "./session-config.js";

/** A settings update: a value sets a field, null removes it, `reset` starts again from the configured defaults. */
const SettingsUpdateSchema = z.object({
  temperature: z.number().min(0).max(2).nullable().optional(),
  maxNewTokens: z.number().int().positive().max(8_192).nullable().optional(),
  topK: z.number().int().positive().max(100).nullable().optional(),
  rewrite: z.boolean().nullable().optional(),
  language: z.string().min(2).max(35).nullable().optional(),
  systemPrompt: z.string().max(4_000).nullable().optional(),
  reset: z.boolean().optional(),
});

export const SessionMessages = {
  history: z.object({}),
  append: z.object({
    question: z.string().min(1),
    answer: z.string(),
    /** The standalone query the answer was retrieved for, when the question was rewritten. */
    query: z.string().optional(),
    sources: z.array(SourceSchema).optional(),
  }),
  rewrite: z.object({ question: z.string().min(1) }),
  settings: SettingsUpdateSchema,
  clear: z.object({ settings: z.boolean().optional() }),
};

export interface SessionHistory {
  turns: Turn[];
  settings: SessionSettings;
  /** Approximate tokens of the kept turns. */
  tokens: number;
}

export interface RewriteResult {
  /** What to retrieve with: the question itself or its standalone form. */
  query: string;
  rewritten: boolean;
  by: "none" | "heuristic" | "llm";
  /** Why the llm rewrite was not used (its error code), when the heuristic stood in. */
  fallback?: string;
}

/** What the state store holds for a session; no settings means the configured defaults. */
const SessionStateSchema = z.object({ v: z.literal(1), turns: z.array(TurnSchema), settings: SessionSettingsSchema.optional() });
type SessionState = Required<z.output<typeof SessionStateSchema>>;

export type TurnInput = z.output<typeof SessionMessages.append>;

function newTurn(m: TurnInput): Turn {
  return {
    question: m.question,
    ...(m.query !== undefined && m.query !== m.question && { query: m.query }),
    answer: m.answer,
    sources: m.sources ?? [],
    at: Date.now(),
  };
}

/**
 * The stored state of a session that starts with `turn`, for
 * `ActorSystem.initState`: a conversation is recorded without activating its
 * session, which only comes to life if the client continues it.
 */
export function openingState(turn: TurnInput): z.input<typeof SessionStateSchema> {
  return { v: 1, turns: [newTurn(turn)] };
}

export interface SessionKindOptions {
  /** Default "session". */
  kind?: string;
  /** The llm pool that rewrites follow-ups when rewrite.mode is "llm". */
  llm?: LlmKind;
}

export function sessionKind(input: SessionConfigInput | SessionConfig = {}, options: SessionKindOptions = {}) {
  const config = parseSessionConfig(input);
  if (config.rewrite.mode === "llm" && options.llm === undefined) throw invalid('session rewrite.mode "llm" needs an llm kind (options.llm)');
  const limits = { maxTurns: config.maxTurns, maxTokens: config.maxHistoryTokens };
  return defineActor({
    kind: options.kind ?? "session",
    placement: "keyed",
    idleMs: config.idleMs,
    stateTtlMs: config.ttlMs,
    mailbox: { capacity: 64 },
    messages: SessionMessages,
    calls: options.llm === undefined ? [] : [options.llm.kind],
    create: async (ctx) => {
      let state = restore(await ctx.load<unknown>(), config, ctx.log);
      /** Saved first, then applied: a failed save leaves the session as it was and answers the error. */
      const commit = async (next: SessionState) => {
        await ctx.save(next);
        state = next;
      };
      return {
        history: (): SessionHistory => ({ turns: [...state.turns], settings: { ...state.settings }, tokens: historyTokens(state.turns) }),

        append: async (m: TurnInput) => {
          const { turns, dropped } = boundHistory([...state.turns, newTurn(m)], limits);
          await commit({ ...state, turns });
          return { turns: turns.length, tokens: historyTokens(turns), dropped };
        },

        rewrite: (m: z.output<typeof SessionMessages.rewrite>, call: CallContext): Promise<RewriteResult> =>
          rewrite(config, options.llm, state, m.question, call),

        settings: async (m: z.output<typeof SessionMessages.settings>): Promise<SessionSettings> => {
          const settings: Record<string, unknown> = m.reset ? { ...config.settings } : { ...state.settings };
          for (const key of Object.keys(SessionSettingsSchema.shape)) {
            const value = (m as Record<string, unknown>)[key];
            if (value === null) delete settings[key];
            else if (value !== undefined) settings[key] = value;
          }
          // The update's schema repeats the settings' bounds by hand; what is saved is checked against the schema the
          // state is restored with, so a drift between the two cannot store settings that a later activation refuses.
          const parsed = SessionSettingsSchema.safeParse(settings);
          if (!parsed.success) throw invalid(`session settings: ${zodIssues(parsed.error).join("; ")}`);
          await commit({ ...state, settings: parsed.data });
          return { ...parsed.data };
        },

        clear: async (m: z.output<typeof SessionMessages.clear>) => {
          const cleared = state.turns.length;
          await commit({ ...state, turns: [], settings: m.settings ? { ...config.settings } : state.settings });
          return { cleared };
        },
      };
    },
  });
}

export type SessionKind = ReturnType<typeof sessionKind>;

function restore(saved: unknown, config: SessionConfig, log: Logger): SessionState {
  const fresh: SessionState = { v: 1, turns: [], settings: { ...config.settings } };
  if (saved === undefined) return fresh;
  const parsed = SessionStateSchema.safeParse(saved);
  if (!parsed.success) {
    log.warn({ issues: parsed.error.issues.slice(0, 3) }, "saved session state is not readable; starting the session afresh");
    return fresh;
  }
  // The limits may have changed since it was saved.
  const { turns } = boundHistory(parsed.data.turns, { maxTurns: config.maxTurns, maxTokens: config.maxHistoryTokens });
  return { v: 1, turns, settings: parsed.data.settings ?? { ...config.settings } };
}

async function rewrite(config: SessionConfig, llm: LlmKind | undefined, state: SessionState, question: string, call: CallContext): Promise<RewriteResult> {
  const q = question.trim();
  const previous = state.turns.at(-1);
  if (previous === undefined || state.settings.rewrite === false) return { query: q, rewritten: false, by: "none" };
  const heuristic = (fallback?: string): RewriteResult => {
    const r = heuristicRewrite(q, standalone(previous), config.rewrite.maxKeyTerms);
    return { ...r, by: r.rewritten ? "heuristic" : "none", ...(fallback !== undefined && { fallback }) };
  };
  if (config.rewrite.mode !== "llm" || llm === undefined) return heuristic();
  try {
    // At most rewrite.timeoutMs, and never past the question's own deadline.
    const stream = call.refs.pool(llm).stream(
      {
        type: "generate",
        messages: rewritePrompt(state.turns.slice(-config.rewrite.turns), q),
        maxNewTokens: config.rewrite.maxNewTokens,
        temperature: 0,
      },
      { timeoutMs: config.rewrite.timeoutMs },
    );
    let text = "";
    for await (const e of stream) if (e.type === "token") text += e.text;
    const query = parseRewrite(text);
    if (query === undefined) return heuristic("EMPTY");
    return { query, rewritten: query !== q, by: "llm" };
  } catch (err) {
    const code = isColmenaError(err) ? err.code : ColmenaError.from(err).code;
    call.log.warn({ code, err: (err as Error).message }, "llm rewrite failed; using the heuristic");
    return heuristic(code);
  }
}
