/**
 * A session's conversation: turns (question, answer, sources), bounded by a
 * number of turns and by an approximate token count, oldest dropped first.
 * Pure: the session actor persists what these functions return.
 */
import { z } from "zod";
import type { ChatMessage } from "../llm/index.js";
import { estimateTokens } from "../llm/index.js";

export const SourceSchema = z.object({
  docId: z.string(),
  chunkId: z.string().optional(),
  score: z.number().optional(),
  /** Where the document came from (path, URL), for display. */
  source: z.string().optional(),
});
export type Source = z.output<typeof SourceSchema>;

export const TurnSchema = z.object({
  question: z.string(),
  /** The standalone form of the question, when it was rewritten. */
  query: z.string().optional(),
  answer: z.string(),
  sources: z.array(SourceSchema),
  /** Epoch ms. */
  at: z.number(),
});
export type Turn = z.output<typeof TurnSchema>;

export interface HistoryLimits {
  maxTurns: number;
  maxTokens: number;
}

/** The approximate tokens of a turn as a prompt would hold it (question and answer). */
export const turnTokens = (t: Turn): number => estimateTokens(t.question) + estimateTokens(t.answer);

export const historyTokens = (turns: readonly Turn[]): number => turns.reduce((sum, t) => sum + turnTokens(t), 0);

/**
 * The turns kept after adding `turn` (or none): at most maxTurns, at most
 * maxTokens, oldest dropped first. The newest turn always stays; when it
 * alone is over the budget its answer is cut to fit (words from the end).
 */
export function boundHistory(turns: readonly Turn[], limits: HistoryLimits): { turns: Turn[]; dropped: number } {
  const kept = turns.slice(-limits.maxTurns);
  let tokens = historyTokens(kept);
  while (kept.length > 1 && tokens > limits.maxTokens) tokens -= turnTokens(kept.shift()!);
  const last = kept.at(-1);
  if (last !== undefined && tokens > limits.maxTokens) {
    const budget = Math.max(0, limits.maxTokens - estimateTokens(last.question));
    const words = last.answer.split(/\s+/).filter((w) => w !== "");
    const keep = Math.floor((budget * 3) / 4);
    kept[kept.length - 1] = { ...last, answer: words.slice(0, keep).join(" ") };
  }
  return { turns: kept, dropped: turns.length - kept.length };
}

/** The last `turns` turns as alternating user / assistant messages, for a prompt. */
export function historyMessages(turns: readonly Turn[], last = turns.length): ChatMessage[] {
  return turns.slice(Math.max(0, turns.length - last)).flatMap((t): ChatMessage[] => [
    { role: "user", content: t.question },
    { role: "assistant", content: t.answer },
  ]);
}
