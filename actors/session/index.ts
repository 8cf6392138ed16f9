/**
 * actors/session: the keyed session actor (history, settings, follow-up
 * rewriting) and the pure pieces it is made of.
 */
export { MAX_SESSION_ID_LENGTH, SessionIdSchema } from "./session-id.js";
export { openingState, sessionKind, SessionMessages } from "./session-actor.js";
export type { RewriteResult, SessionHistory, SessionKind, SessionKindOptions, TurnInput } from "./session-actor.js";
export { parseSessionConfig, SessionConfigSchema, SessionSettingsSchema } from "./session-config.js";
export type { SessionConfig, SessionConfigInput, SessionSettings } from "./session-config.js";
export { boundHistory, historyMessages, historyTokens, SourceSchema, TurnSchema, turnTokens } from "./history.js";
export type { HistoryLimits, Source, Turn } from "./history.js";
export { heuristicRewrite, isFollowUp, keyTerms, parseRewrite, REWRITE_SYSTEM_PROMPT, rewritePrompt } from "./rewrite.js";
export type { Rewrite } from "./rewrite.js";
