/**
 * Fits a request's messages under maxPromptTokens: earlier turns go first,
 * oldest first (a user message with the assistant replies that follow it),
 * then the lowest-ranked passages of the RAG layout (the last ones, so the
 * numbers of the passages kept, and their citations, do not change). System
 * messages and the last user message's question always stay; a prompt that
 * still does not fit is INVALID.
 */
import { invalid } from "../../runtime/index.js";
import type { ChatMessage } from "./backend.js";
import { parseRagPrompt, ragUserContent } from "./prompt.js";

/** Tokens a chat template adds around each message (role markers, separators), estimated. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export interface FittedPrompt {
  messages: ChatMessage[];
  /** Estimated prompt tokens after trimming. */
  tokens: number;
  /** Earlier-turn messages dropped. */
  droppedHistory: number;
  /** Passages dropped from the end of the RAG layout. */
  droppedPassages: number;
}

export function fitPrompt(messages: readonly ChatMessage[], maxTokens: number, countTokens: (text: string) => number): FittedPrompt {
  const cost = (m: ChatMessage) => countTokens(m.content) + MESSAGE_OVERHEAD_TOKENS;
  let tokens = messages.reduce((sum, m) => sum + cost(m), 0);
  if (tokens <= maxTokens) return { messages: [...messages], tokens, droppedHistory: 0, droppedPassages: 0 };

  const lastUser = messages.findLastIndex((m) => m.role === "user");
  const system = messages.filter((m, i) => m.role === "system" && i < lastUser);
  const history = messages.filter((m, i) => m.role !== "system" && i < lastUser);
  const tail = lastUser < 0 ? [] : messages.slice(lastUser);
  let droppedHistory = 0;
  while (tokens > maxTokens && history.length > 0) {
    do {
      tokens -= cost(history.shift()!);
      droppedHistory++;
    } while (history[0]?.role === "assistant");
  }

  let droppedPassages = 0;
  let last = tail[0];
  if (tokens > maxTokens && last !== undefined) {
    const { question, passages } = parseRagPrompt([last]);
    while (tokens > maxTokens && passages.length > 0) {
      passages.pop();
      droppedPassages++;
      const next: ChatMessage = { role: "user", content: ragUserContent({ question, passages }) };
      tokens += cost(next) - cost(last);
      last = next;
    }
  }
  if (tokens > maxTokens) {
    throw invalid(`the prompt needs about ${tokens} tokens even without history and passages; maxPromptTokens is ${maxTokens}`, {
      promptTokens: tokens,
      maxPromptTokens: maxTokens,
    });
  }
  const rest = last === undefined ? [] : [last, ...tail.slice(1)];
  return { messages: [...system, ...history, ...rest], tokens, droppedHistory, droppedPassages };
}
